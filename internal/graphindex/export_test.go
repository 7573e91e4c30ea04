package graphindex

import "time"

// PublishedCode exposes publishedCode to the tests.
const PublishedCode = publishedCode

// SetPoll sets how often the index catches up without a signal from the
// feed. Call it before Run.
func (x *Index) SetPoll(d time.Duration) { x.poll = d }
