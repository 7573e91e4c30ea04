package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// httpTransport serves GraphQL over GET and POST (application/json). It
// takes the place of gqlgen's GET and POST transports, which answer some
// refusals without an error code (undecodable variables, a mutation over
// GET), read a body over the size limit as BAD_USER_INPUT with status 200,
// and run a subscription over POST until the request times out. Here every
// refusal goes through writeRefusal, and a subscription is refused at once
// with the address of the WebSocket endpoint.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

// Supports takes GET and JSON POST requests that do not ask to upgrade.
func (httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && err == nil && mt == "application/json"
}

// graphQLResponseType is the media type of the GraphQL over HTTP
// specification. A client that asks for it learns of a request error
// (nothing ran: the document does not parse or validate, a variable does
// not coerce, a limit measured on the document) from a 4xx status; one that
// takes application/json gets 200, as the specification says for that
// type. Either way such a response has no data entry.
const graphQLResponseType = "application/graphql-response+json"

// Do reads the request's parameters, refuses what cannot run over HTTP, and
// runs the operation.
func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	params := &graphql.RawParams{Headers: r.Header}
	params.ReadTime.Start = graphql.Now()
	if ref, ok := t.read(r, params); !ok {
		writeRefusal(w, ref)
		return
	}
	params.ReadTime.End = graphql.Now()
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		// The specification's "invalid parameters": 400 for either media
		// type, before gqlgen's "no operation provided".
		writeRefusal(w, refusal{Code: CodeBadUserInput, Field: "query",
			Message: "the request has no query: send the GraphQL document in query (or a persisted query's hash in extensions.persistedQuery)"})
		return
	}

	contentType := "application/json"
	if strings.Contains(r.Header.Get("Accept"), graphQLResponseType) {
		contentType = graphQLResponseType
	}
	ctx := r.Context()
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs)
		status := http.StatusOK
		if contentType == graphQLResponseType {
			status = requestErrorStatus(resp.Errors)
		}
		writeRequestError(w, status, contentType, resp)
		return
	}
	switch op := oc.Doc.Operations.ForName(oc.OperationName); {
	case op.Operation == ast.Subscription:
		writeRefusal(w, refusal{Code: CodeBadUserInput, Message: "subscriptions run over the WebSocket endpoint " +
			"/graphql (ws:// or wss://, subprotocol graphql-transport-ws) or over Server-Sent Events " +
			"(POST to /graphql with Accept: text/event-stream), not over plain HTTP " + r.Method})
		return
	case op.Operation == ast.Mutation && r.Method == http.MethodGet:
		// A GET must not change anything: links and prefetches make them.
		w.Header().Set("Allow", "POST")
		writeRefusal(w, refusal{Code: CodeBadUserInput, Status: http.StatusMethodNotAllowed, Message: "send mutations with POST, not GET"})
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, http.StatusOK, contentType, responses(ctx))
}

// read fills params from the query string of a GET or the body of a POST;
// it returns the refusal when they cannot be read.
func (t httpTransport) read(r *http.Request, params *graphql.RawParams) (refusal, bool) {
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return refusal{Code: CodeBadUserInput, Message: "the query string cannot be decoded: " + err.Error()}, false
		}
		params.Query, params.OperationName = q.Get("query"), q.Get("operationName")
		for _, p := range []struct {
			name string
			into any
		}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
			if v := q.Get(p.name); v != "" {
				if err := decodeJSON(strings.NewReader(v), p.into); err != nil {
					return refusal{Code: CodeBadUserInput, Field: p.name, Message: p.name + " is not a JSON object: " + err.Error()}, false
				}
			}
		}
		return refusal{}, true
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
			return bodyTooLarge(mb.Limit), false
		}
		return refusal{Code: CodeBadUserInput, Message: "the request body cannot be read"}, false
	}
	if err := decodeJSON(bytes.NewReader(body), params); err != nil {
		// The error names the position, never echoes the body.
		return refusal{Code: CodeBadUserInput, Message: "the request body is not a GraphQL request in JSON: " + err.Error()}, false
	}
	return refusal{}, true
}

// decodeJSON decodes one JSON value, keeping numbers exact as gqlgen does.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec.Decode(v)
}

// requestErrorStatus is the status of a request error answered as
// application/graphql-response+json: that of its code as for a refusal at
// the HTTP level (BAD_USER_INPUT, which parse and validation errors carry,
// is 400; FORBIDDEN, a document a trusted-documents server does not know,
// 403), and 400 for a code without one. A limit measured on the document
// (depth, cost, aliases) is 400 too: unlike a rate limit, whose refusals
// carry retryAfter and get 429, waiting does not help.
func requestErrorStatus(errs gqlerror.List) int {
	if len(errs) == 0 {
		return http.StatusBadRequest
	}
	code, _ := errs[0].Extensions["code"].(string)
	if _, retry := errs[0].Extensions["retryAfter"]; code == CodeLimitExceeded && !retry {
		return http.StatusBadRequest
	}
	if s := codeStatus[code]; s != 0 {
		return s
	}
	return http.StatusBadRequest
}

// writeRequestError answers a request error, which has no data entry (the
// specification: the request did not start executing).
func writeRequestError(w http.ResponseWriter, status int, contentType string, resp *graphql.Response) {
	writeResponse(w, status, contentType, struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
}

// writeResponse answers body, a GraphQL response, as JSON of contentType.
func writeResponse(w http.ResponseWriter, status int, contentType string, body any) {
	var b []byte
	var err error
	if resp, ok := body.(*graphql.Response); ok && resp != nil {
		b, err = encodeResponse(resp)
	} else {
		b, err = json.Marshal(body)
	}
	if err != nil {
		// Data was marshalled by the executor already: this cannot happen
		// short of a bug, which the client sees as INTERNAL.
		writeRefusal(w, refusal{Code: CodeInternal, Message: "internal error: the response cannot be encoded"})
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// needsHTMLEscape reports whether b holds a byte or character that
// json.Marshal escapes (<, >, &, U+2028, U+2029). bytes.ContainsAny with
// those two non-ASCII characters decodes b rune by rune: 13 % of the
// server's CPU under 16 clients of 500-entity neighbourhoods; a search
// per byte (vectorised) is a few microseconds for the same 60 kB.
func needsHTMLEscape(b []byte) bool {
	return bytes.IndexByte(b, '<') >= 0 || bytes.IndexByte(b, '>') >= 0 || bytes.IndexByte(b, '&') >= 0 ||
		bytes.Contains(b, lineSeparator) || bytes.Contains(b, paragraphSeparator)
}

var lineSeparator, paragraphSeparator = []byte("\u2028"), []byte("\u2029")

// encodeResponse encodes resp as json.Marshal would, in the same order of
// members, but writes its data as the executor marshalled it: compact
// JSON already. json.Marshal validates and compacts a json.RawMessage
// byte by byte into a second copy, which for a 500-entity neighbourhood
// (about 60 kB) was a tenth of the server's CPU per request
// (docs/benchmarks.md, "The API layer's own cost").
func encodeResponse(resp *graphql.Response) ([]byte, error) {
	buf := make([]byte, 0, len(resp.Data)+64)
	buf = append(buf, '{')
	if len(resp.Errors) > 0 {
		e, err := json.Marshal(resp.Errors)
		if err != nil {
			return nil, err
		}
		buf = append(buf, `"errors":`...)
		buf = append(buf, e...)
		buf = append(buf, ',')
	}
	buf = append(buf, `"data":`...)
	switch {
	case len(resp.Data) == 0:
		buf = append(buf, "null"...)
	case needsHTMLEscape(resp.Data):
		// Escaped as json.Marshal does, so that the bytes stay the same
		// (a snippet's <mark> is \u003cmark\u003e, as docs/search.md shows).
		b := bytes.NewBuffer(buf)
		json.HTMLEscape(b, resp.Data)
		buf = b.Bytes()
	default:
		buf = append(buf, resp.Data...)
	}
	// The members an incremental delivery or an extension adds are rare
	// and small: json.Marshal writes them.
	if resp.Label != "" || len(resp.Path) > 0 || resp.HasNext != nil || len(resp.Extensions) > 0 {
		rest, err := json.Marshal(&graphql.Response{Label: resp.Label, Path: resp.Path, HasNext: resp.HasNext, Extensions: resp.Extensions})
		if err != nil {
			return nil, err
		}
		// rest is {"data":null,...}: its members after data follow ours.
		rest = bytes.TrimPrefix(rest, []byte(`{"data":null`))
		buf = append(buf, rest[:len(rest)-1]...)
	}
	return append(buf, '}'), nil
}
