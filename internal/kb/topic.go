package kb

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/partnergraph/partnergraph/internal/lang"
)

// Topic is a term of the controlled vocabulary of good practices' topics
// (migration 00026): a stable slug and a label in each language given, the
// one in its original language always.
type Topic struct {
	ID               int64  `json:"id"`
	Slug             string `json:"slug"`
	OriginalLanguage string `json:"originalLanguage"`
	// Labels by language tag ("pl", "sv", "en").
	Labels    map[string]string `json:"labels"`
	CreatedAt time.Time         `json:"createdAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
	CreatedBy string            `json:"createdBy"`
	UpdatedBy string            `json:"updatedBy"`
}

// Label returns the label of t in the first of the languages of
// lang.Order(requested, t.OriginalLanguage) that it has, and that
// language: the same fallback as an entry's texts.
func (t *Topic) Label(requested string) (label, tag string) {
	for _, l := range lang.Order(requested, t.OriginalLanguage) {
		if s, ok := t.Labels[l]; ok {
			return s, l
		}
	}
	for _, l := range lang.Supported {
		if s, ok := t.Labels[l]; ok {
			return s, l
		}
	}
	return "", ""
}

// The errors of the topic vocabulary, each with its own code in the API
// (TOPIC_NOT_FOUND, SLUG_TAKEN, LABEL_TAKEN).
var (
	// ErrTopicNotFound: no topic has the slug (nor had it).
	ErrTopicNotFound = errors.New("topic not found")
	// ErrSlugTaken: another topic has the slug, or had it (a redirect).
	ErrSlugTaken = errors.New("slug taken")
	// ErrLabelTaken: another topic has the label in that language.
	ErrLabelTaken = errors.New("label taken")
)

// CodeInvalidSlug is the code of a ValidationError for a malformed slug.
const CodeInvalidSlug = "INVALID_SLUG"

// MaxSlugLen and MaxTopicLabelLen bound a topic's slug and labels
// (the CHECKs of migration 00026).
const (
	MaxSlugLen = 80
	// MaxTopicLabelLen is a practice's topic's bound from before the
	// vocabulary, so that every stored topic became a label.
	MaxTopicLabelLen = MaxNameLen
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// CheckSlug checks a slug: lower-case ASCII letters and digits, in words
// joined by single hyphens, at most MaxSlugLen characters.
func CheckSlug(field, slug string) error {
	if len(slug) > MaxSlugLen || !slugRE.MatchString(slug) {
		return &ValidationError{Field: field, Code: CodeInvalidSlug,
			Message: "a slug is lower-case ASCII letters and digits in words joined by single hyphens " +
				"(e.g. spoldzielnie-socjalne), at most 80 characters; got " + strconv.Quote(slug)}
	}
	return nil
}

// TopicLabel returns a label as stored (trimmed, runs of white space as
// one space) or a ValidationError: empty, too long, or with control
// characters.
func TopicLabel(field, label string) (string, error) {
	s := strings.Join(strings.Fields(label), " ")
	if err := checkText(field, s, MaxTopicLabelLen, true); err != nil {
		return "", err
	}
	if s == "" {
		return "", Invalid(field, "a label may not be empty")
	}
	return s, nil
}

// TopicRecord is a topic in a data-set file: its slug, its original
// language ("" is Polish) and its labels.
type TopicRecord struct {
	Slug             string             `json:"slug"`
	OriginalLanguage string             `json:"originalLanguage,omitempty"`
	Labels           []TopicLabelRecord `json:"labels"`
}

// TopicLabelRecord is one label of a TopicRecord.
type TopicLabelRecord struct {
	Lang  string `json:"lang"`
	Label string `json:"label"`
}

// Validate checks the slug, the languages and labels (one per language,
// the original language's present), and stores the labels as TopicLabel
// writes them.
func (r *TopicRecord) Validate() error {
	if err := CheckSlug("slug", r.Slug); err != nil {
		return err
	}
	orig := r.OriginalLanguage
	if orig == "" {
		orig = lang.Default
	}
	if !lang.IsSupported(orig) {
		return Invalid("originalLanguage", "%q is not a supported language (%s)", orig, strings.Join(lang.Supported, ", "))
	}
	seen := map[string]bool{}
	for i := range r.Labels {
		l := &r.Labels[i]
		if !lang.IsSupported(l.Lang) {
			return Invalid(fmt.Sprintf("labels[%d].lang", i), "%q is not a supported language (%s)", l.Lang, strings.Join(lang.Supported, ", "))
		}
		if seen[l.Lang] {
			return Invalid(fmt.Sprintf("labels[%d].lang", i), "a second label in %s", l.Lang)
		}
		seen[l.Lang] = true
		var err error
		if l.Label, err = TopicLabel(fmt.Sprintf("labels[%d].label", i), l.Label); err != nil {
			return err
		}
	}
	if !seen[orig] {
		return Invalid("labels", "a topic needs its label in its original language (%s)", orig)
	}
	return nil
}

// Record returns t as a data-set record, its labels in the order of
// lang.Supported.
func (t *Topic) Record() TopicRecord {
	r := TopicRecord{Slug: t.Slug, OriginalLanguage: t.OriginalLanguage}
	for _, l := range lang.Supported {
		if s, ok := t.Labels[l]; ok {
			r.Labels = append(r.Labels, TopicLabelRecord{Lang: l, Label: s})
		}
	}
	return r
}
