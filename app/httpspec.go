package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopql/shopql/graph"
)

// This file serves GraphQL over HTTP as the GraphQL-over-HTTP specification
// (https://graphql.github.io/graphql-over-http/draft/) describes it. gqlgen's own GET and POST
// transports get most of it right but answer request errors with 422 under application/json
// (the spec wants 200), send "data": null on request errors (the spec wants no data entry),
// refuse mutations over GET with 406 (the spec wants 405) and never answer 406 or 415.

// The response media types, as negotiated from the Accept header.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// graphQLAllow lists the methods /graphql answers, for 405 responses and OPTIONS.
const graphQLAllow = "GET, POST, OPTIONS"

// httpTransport is gqlgen's transport for GET and POST requests.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

// Supports implements graphql.Transport.
func (httpTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodPost
}

// Do implements graphql.Transport: it negotiates the response media type, reads the request
// parameters, and executes the operation.
func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(r.Header.Values("Accept"))
	if !ok {
		// The client accepts neither media type we can produce, so nothing it understands can be sent;
		// the body is for humans reading the exchange.
		writeRequestError(w, r, mediaJSON, http.StatusNotAcceptable,
			"the Accept header must allow application/graphql-response+json or application/json")
		return
	}
	start := graphql.Now()
	params, status, err := readParams(r)
	if err != nil {
		writeRequestError(w, r, media, status, err.Error())
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		// The request failed before execution: the response has errors and, by the GraphQL
		// specification, no data entry.
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, media, requestErrorStatus(media, resp.Errors), resp, false)
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		// Only queries are safe; a mutation must not run because a link was followed.
		w.Header().Set("Allow", "POST")
		writeRequestError(w, r, media, http.StatusMethodNotAllowed, "only queries can be sent with GET; send mutations with POST")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, media, http.StatusOK, responses(ctx), true)
}

// negotiate picks the response media type from the Accept header values: the first one listed
// with a non-zero quality that we can produce. No header, like */* and application/*, means
// application/json, which every client understands (the spec's advice until its watershed).
func negotiate(accept []string) (string, bool) {
	if len(accept) == 0 {
		return mediaJSON, true
	}
	best, bestQ := "", 0.0
	for _, value := range accept {
		for part := range strings.SplitSeq(value, ",") {
			mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			var media string
			switch mediaType {
			case mediaGraphQLResponse:
				media = mediaGraphQLResponse
			case mediaJSON, "application/*", "*/*":
				media = mediaJSON
			default:
				continue
			}
			// The highest quality wins; among equals, the first listed.
			if q := quality(params); q > bestQ {
				best, bestQ = media, q
			}
		}
	}
	return best, best != ""
}

// quality is an Accept entry's q parameter: 1 when absent, 0 ("not this one") when malformed.
func quality(params map[string]string) float64 {
	q, ok := params["q"]
	if !ok {
		return 1
	}
	v, err := strconv.ParseFloat(q, 64)
	if err != nil || v < 0 || v > 1 {
		return 0
	}
	return v
}

// rawParams are the GraphQL-over-HTTP request parameters as JSON gives them, before their types
// are checked: absent and null are both nil. Decoding the body into them once (the JSON types come
// with the values) replaces decoding it into raw messages and each of those again.
type rawParams struct {
	Query         any `json:"query"`
	OperationName any `json:"operationName"`
	Variables     any `json:"variables"`
	Extensions    any `json:"extensions"`
}

// readParams reads the request parameters from the URL query (GET) or the JSON body (POST). An
// error comes with the HTTP status to answer: the request is not a well-formed GraphQL-over-HTTP
// request, so no GraphQL processing happens.
func readParams(r *http.Request) (*graphql.RawParams, int, error) {
	var raw rawParams
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, http.StatusBadRequest, errors.New("malformed URL query")
		}
		if raw, err = urlParams(q); err != nil {
			return nil, http.StatusBadRequest, err
		}
	} else {
		if status, err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			return nil, status, err
		}
		if status, err := decodeBody(r.Body, &raw); err != nil {
			return nil, status, err
		}
	}
	return checkParams(raw)
}

// decodeBody reads the whole body, checks it is UTF-8, and decodes it into raw.
func decodeBody(body io.Reader, raw *rawParams) (int, error) {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() { putBodyBuffer(buf) }()
	// The body is bounded by MAX_BODY_BYTES (guardGraphQL); past it, reading fails with
	// *http.MaxBytesError.
	if _, err := buf.ReadFrom(body); err != nil {
		return readError(err)
	}
	if !utf8.Valid(buf.Bytes()) {
		// JSON text is UTF-8 (RFC 8259); decoding would silently replace the bad bytes and
		// store something the client never sent.
		return http.StatusBadRequest, errors.New("the request body is not valid UTF-8")
	}
	if err := decodeJSON(buf.Bytes(), raw); err != nil {
		return http.StatusBadRequest, errors.New("the request body must be a JSON object with a query string: " + describeJSONError(err))
	}
	return 0, nil
}

// readError is the answer to a body that could not be read (apart so that the target errors.As
// needs is allocated only then).
func readError(err error) (int, error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, errors.New("the request body is larger than " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes")
	}
	return http.StatusBadRequest, errors.New("could not read the request body")
}

// bodyBuffers hold request bodies while they are checked and decoded: what the decoder makes of a
// body shares no memory with it, so its buffer can serve the next request.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept for another body: a rare large body must not keep its
// memory for good in every pool's cache.
const maxPooledBody = 64 << 10

// putBodyBuffer returns buf to bodyBuffers, empty, unless it is too large; it reports whether it did.
func putBodyBuffer(buf *bytes.Buffer) bool {
	if buf.Cap() > maxPooledBody {
		return false
	}
	buf.Reset()
	bodyBuffers.Put(buf)
	return true
}

// urlParams reads the parameters of a GET request: query and operationName as strings (made
// valid UTF-8), variables and extensions as the JSON text they hold (absent when empty).
func urlParams(q url.Values) (rawParams, error) {
	var raw rawParams
	if q.Has("query") {
		raw.Query = validUTF8(q.Get("query"))
	}
	if q.Has("operationName") {
		raw.OperationName = validUTF8(q.Get("operationName"))
	}
	for _, f := range []struct {
		name string
		dst  *any
	}{{"variables", &raw.Variables}, {"extensions", &raw.Extensions}} {
		if v := q.Get(f.name); v != "" {
			if err := decodeJSON([]byte(v), f.dst); err != nil {
				return rawParams{}, errors.New("the " + f.name + " parameter must be an object")
			}
		}
	}
	return raw, nil
}

// validUTF8 returns s with each byte that is not part of a UTF-8 sequence replaced by U+FFFD, as
// a JSON string of s would decode: the URL parameters then mean what the same parameters in a body
// would.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s { // an invalid byte ranges as one utf8.RuneError
		b.WriteRune(r)
	}
	return b.String()
}

// checkContentType accepts application/json in UTF-8, the only request encoding the spec requires.
func checkContentType(contentType string) (int, error) {
	if contentType == mediaJSON {
		return 0, nil // what nearly every client sends: no parameters to parse (mime's would be a map)
	}
	if contentType == "" {
		return http.StatusUnsupportedMediaType, errors.New("send the request body as Content-Type: application/json")
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != mediaJSON {
		return http.StatusUnsupportedMediaType, errors.New("unsupported Content-Type: send application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return http.StatusUnsupportedMediaType, errors.New("unsupported charset: send UTF-8")
	}
	return 0, nil
}

// checkParams checks the parameters' JSON types: query and operationName strings, variables and
// extensions objects, each possibly absent or null. A query is required unless the extensions
// carry an automatic persisted query hash, which stands for it.
func checkParams(raw rawParams) (*graphql.RawParams, int, error) {
	p := &graphql.RawParams{}
	var ok [4]bool
	p.Query, ok[0] = optional[string](raw.Query)
	p.OperationName, ok[1] = optional[string](raw.OperationName)
	p.Variables, ok[2] = optional[map[string]any](raw.Variables)
	p.Extensions, ok[3] = optional[map[string]any](raw.Extensions)
	for i, name := range [...]string{"query", "operationName", "variables", "extensions"} {
		if !ok[i] {
			kind := "a string"
			if name == "variables" || name == "extensions" {
				kind = "an object"
			}
			return nil, http.StatusBadRequest, errors.New("the " + name + " parameter must be " + kind)
		}
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, http.StatusBadRequest, errors.New("the query parameter is missing")
	}
	return p, 0, nil
}

// optional returns v as a T: the zero T when v is nil (the parameter was absent or null), and
// false when v holds another JSON type.
func optional[T any](v any) (T, bool) {
	if v == nil {
		var zero T
		return zero, true
	}
	t, ok := v.(T)
	return t, ok
}

// describeJSONError says what is wrong with a request body in JSON's terms: encoding/json's own
// messages name the Go type it decodes into ("cannot unmarshal array into Go value of type
// app.rawParams"), which means nothing to a client and tells an attacker about the server.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON text ends too early"
	case errors.As(err, &syntax):
		return "malformed JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		what := typ.Value
		switch what {
		case "array":
			// The one shape a client may well mean: a batch.
			return "got a JSON array (batches of operations are not supported: send one operation per request)"
		case "bool":
			what = "boolean"
		}
		if typ.Field != "" {
			return "the " + typ.Field + " parameter is a JSON " + what + " of the wrong type"
		}
		return "got a JSON " + what
	case errors.Is(err, errTrailingData):
		return err.Error()
	}
	return "malformed JSON"
}

var errTrailingData = errors.New("unexpected data after the JSON value")

// decodeJSON decodes exactly one JSON value, keeping numbers exact as gqlgen expects.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailingData
	}
	return nil
}

// requestErrorStatus is the status of a response to a request that failed before execution, and
// so has no data entry. Under application/graphql-response+json that is 400, as the
// GraphQL-over-HTTP spec requires, except for PERSISTED_QUERY_NOT_FOUND: that is a step of the
// automatic persisted queries protocol the client drives, answered 200 as Apollo's link expects.
// Under application/json it is 200 (clients of that media type read errors from the body, and
// proxies must not mistake a bad query for a broken server), except for BAD_REQUEST, which is
// always 400: the request was not a usable GraphQL request at all (README, Errors).
func requestErrorStatus(media string, errs gqlerror.List) int {
	const codePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND" // gqlgen's extension.AutomaticPersistedQuery
	persistedQueryNotFound := len(errs) > 0
	for _, e := range errs {
		switch e.Extensions["code"] {
		case graph.CodeBadRequest:
			return http.StatusBadRequest
		case codePersistedQueryNotFound:
		default:
			persistedQueryNotFound = false
		}
	}
	if media == mediaGraphQLResponse && !persistedQueryNotFound {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// writeRequestError answers a request that could not be processed as GraphQL, with a GraphQL
// response holding one error so that clients can show it like any other.
// It is recorded for the request's log line and metrics, as the error presenter records the others.
func writeRequestError(w http.ResponseWriter, r *http.Request, media string, status int, message string) {
	code := graph.RequestErrorCode(status)
	if info := requestInfoFrom(r.Context()); info != nil {
		info.reject(code)
	}
	err := &gqlerror.Error{Message: message, Extensions: map[string]any{"code": code}}
	writeResponse(w, media, status, &graphql.Response{Errors: gqlerror.List{err}}, false)
}

// writeResponse writes resp in media with status. withData tells whether the data entry belongs
// in it: only once execution has started, even if it then yields null.
func writeResponse(w http.ResponseWriter, media string, status int, resp *graphql.Response, withData bool) {
	var body []byte
	var err error
	if withData && plainData(resp) {
		// The common case, and every cached one: the executor's data is JSON already, so write it
		// as it is rather than have encoding/json scan, re-compact and copy all of it again.
		data := resp.Data
		if len(data) == 0 {
			data = json.RawMessage("null")
		}
		setResponseHeaders(w, media)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"data":`)
		_, _ = w.Write(data)
		_, _ = io.WriteString(w, "}")
		return
	}
	switch {
	case withData:
		body, err = json.Marshal(resp)
	default:
		body, err = json.Marshal(struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
	}
	if err != nil {
		// Only a resolver returning something JSON cannot encode gets here: a bug, reported as one.
		panic(err)
	}
	setResponseHeaders(w, media)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func setResponseHeaders(w http.ResponseWriter, media string) {
	var contentType string
	switch media { // constants, rather than a string built per response
	case mediaJSON:
		contentType = mediaJSON + "; charset=utf-8"
	case mediaGraphQLResponse:
		contentType = mediaGraphQLResponse + "; charset=utf-8"
	default:
		contentType = media + "; charset=utf-8"
	}
	// One allocation for both values, as Header.Set would make one each; each slice is capped
	// so that an Add to one cannot write into the other.
	values := []string{contentType, "no-store"}
	h := w.Header()
	h["Content-Type"] = values[0:1:1]
	h["Cache-Control"] = values[1:2:2]
}

// plainData reports whether resp is nothing but data.
func plainData(resp *graphql.Response) bool {
	return len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" && len(resp.Path) == 0 && resp.HasNext == nil
}

// otherMethods is the last transport: it takes every request the others did not, which on
// /graphql can only be one with a method other than GET and POST. OPTIONS lists the methods
// (a CORS preflight never gets here: the CORS middleware answers it); anything else is 405.
type otherMethods struct{}

var _ graphql.Transport = otherMethods{}

// Supports implements graphql.Transport.
func (otherMethods) Supports(*http.Request) bool { return true }

// Do implements graphql.Transport.
func (otherMethods) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	w.Header().Set("Allow", graphQLAllow)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	media, ok := negotiate(r.Header.Values("Accept"))
	if !ok {
		media = mediaJSON
	}
	writeRequestError(w, r, media, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on this endpoint; use "+graphQLAllow)
}
