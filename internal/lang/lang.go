// Package lang is the one place that knows the languages of the knowledge
// base: which are supported, how a request names one (a BCP 47 tag in
// `@lang`, or the Accept-Language header with its q-values), the order a
// text falls back in, and the names of countries in each language. It is
// pure (no I/O) and imports nothing of the project, so that kb (validating
// translations), the resolvers (text fields, topic labels) and the server
// (Content-Language, the response cache) resolve a language alike.
// docs/api.md, "Languages", describes it for callers.
package lang

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// The supported languages, as the base tags stored with texts.
const (
	Polish  = "pl"
	Swedish = "sv"
	English = "en"
)

// Default is the language of the knowledge base: the reference data's
// articles are Polish. It is the first fallback after a text's original
// language.
const Default = Polish

// Supported lists the supported languages, the default first.
var Supported = []string{Polish, Swedish, English}

// tags are Supported as language tags, in the same order, for the matcher.
var tags = []language.Tag{language.Polish, language.Swedish, language.English}

// matcher matches a request's languages to the supported ones.
var matcher = language.NewMatcher(tags)

// dictionaries hold the names of languages and regions in each supported
// language: three dictionaries rather than every CLDR table keep the
// binary small.
var dictionaries = map[string]*display.Dictionary{Polish: display.Polish, Swedish: display.Swedish, English: display.English}

// IsSupported reports whether tag is the base tag of a supported language,
// as stored ("pl", not "pl-PL").
func IsSupported(tag string) bool {
	for _, s := range Supported {
		if s == tag {
			return true
		}
	}
	return false
}

// Error is a language that cannot be served: malformed or not supported.
type Error struct {
	// Tag is what was asked for.
	Tag string
	// Malformed is true when Tag is not a BCP 47 tag at all.
	Malformed bool
}

func (e *Error) Error() string {
	if e.Malformed {
		return fmt.Sprintf("%q is not a BCP 47 language tag (such as en, sv, pl or en-GB); the supported languages are %s",
			e.Tag, strings.Join(Supported, ", "))
	}
	return fmt.Sprintf("the language %q is not supported; the supported languages are %s", e.Tag, strings.Join(Supported, ", "))
}

// Parse reads a BCP 47 tag and returns the supported language it names, as
// its base tag: "en-GB" and "EN" are "en", "sv-FI" is "sv". A malformed
// tag, or one of a language that is not supported, is an *Error.
func Parse(tag string) (string, error) {
	t, err := language.Parse(strings.TrimSpace(tag))
	if err != nil || tag == "" {
		return "", &Error{Tag: tag, Malformed: true}
	}
	base, conf := t.Base()
	if conf == language.No {
		return "", &Error{Tag: tag}
	}
	if b := base.String(); IsSupported(b) {
		return b, nil
	}
	return "", &Error{Tag: tag}
}

// Negotiate picks the supported language an Accept-Language header asks
// for, by its q-values ("sv;q=0.5, en;q=0.9" is en; "en-US" is en), and
// "" when it asks for none of them, has only "*", or is malformed: HTTP
// content negotiation ignores what it cannot read rather than failing
// (RFC 9110, 12.5.4), and the text is then served in its original
// language.
func Negotiate(header string) string {
	header = strings.TrimSpace(header)
	if header == "" {
		return ""
	}
	prefs, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(prefs) == 0 {
		return ""
	}
	// The matcher also pairs languages that are merely close (Norwegian
	// and Danish with Swedish); only a language itself, in any region or
	// script, counts here.
	for _, p := range prefs {
		base, conf := p.Base()
		if conf == language.No {
			continue
		}
		if b := base.String(); IsSupported(b) {
			_, idx, c := matcher.Match(p)
			if c >= language.High && Supported[idx] == b {
				return b
			}
		}
	}
	return ""
}

// Order returns the languages a text is looked for in, first to last:
// the requested one, the original, Polish, English, each once. requested
// may be "" (none asked for: the original comes first).
func Order(requested, original string) []string {
	out := make([]string, 0, 4)
	for _, l := range []string{requested, original, Polish, English} {
		if l == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == l
		}
		if !dup {
			out = append(out, l)
		}
	}
	return out
}

// Name returns the name of a supported language in itself ("svenska").
func Name(tag string) string {
	t := language.Make(tag)
	return display.Self.Name(t)
}

// EnglishName returns the name of a language in English ("Swedish").
func EnglishName(tag string) string {
	return display.English.Languages().Name(language.Make(tag))
}

// CountryName returns the name of a country, by its ISO 3166-1 alpha-2
// code, in a supported language (in Polish when in is not one): "SE" is
// Szwecja, Sverige, Sweden. It returns "" for a code it does not know.
func CountryName(code, in string) string {
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() {
		return ""
	}
	d, ok := dictionaries[in]
	if !ok {
		d = dictionaries[Default]
	}
	return d.Regions().Name(r)
}

// Choice is the language of one request: what the Accept-Language header
// asked for, and what the operation's @lang says, which wins. It is a
// pointer in the request's context, so that the GraphQL layer, which reads
// @lang, and the HTTP layer, which writes Content-Language, share it.
type Choice struct {
	// Header is the language Accept-Language negotiated, or "".
	Header string
	// Operation is the language of the operation's @lang, or "".
	Operation string
}

// Requested returns the language the request asks for, "" for none.
func (c *Choice) Requested() string {
	if c == nil {
		return ""
	}
	if c.Operation != "" {
		return c.Operation
	}
	return c.Header
}

type choiceKey struct{}

// WithChoice returns ctx carrying c.
func WithChoice(ctx context.Context, c *Choice) context.Context {
	return context.WithValue(ctx, choiceKey{}, c)
}

// ChoiceOf returns the choice ctx carries, or nil.
func ChoiceOf(ctx context.Context) *Choice {
	c, _ := ctx.Value(choiceKey{}).(*Choice)
	return c
}

// Requested returns the language the request of ctx asks for: "" when it
// asks for none, and the text is served in its original language.
func Requested(ctx context.Context) string { return ChoiceOf(ctx).Requested() }
