package graphindex

// PublishedCode exposes publishedCode to the tests.
const PublishedCode = publishedCode
