package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/auth"
)

// CatalogCache is a gqlgen extension that answers repeated catalog queries (products, product,
// categories, category) from memory. The catalog is the same for every authenticated caller and
// for every anonymous caller, so a response is shared within those two classes; the token is still
// verified on every request, and a request whose token fails is never served from the cache.
//
// Entries are tagged with the catalog version current when execution began. Any catalog
// mutation on this instance bumps the version when it completes, as does a change announced by
// another instance (Invalidate); an entry also expires after maxAge, which bounds staleness if an
// announcement is missed, or between processes sharing a SQLite file, which announce nothing.
type CatalogCache struct {
	entries  *lru.LRU[*cachedResponse]
	version  atomic.Uint64
	maxAge   time.Duration
	maxBytes int
}

type cachedResponse struct {
	version uint64
	stored  time.Time
	resp    *graphql.Response
}

// NewCatalogCache keeps up to size responses of at most maxBytes of data each, for up to maxAge.
func NewCatalogCache(size int, maxAge time.Duration, maxBytes int) *CatalogCache {
	return &CatalogCache{entries: lru.New[*cachedResponse](size), maxAge: maxAge, maxBytes: maxBytes}
}

var (
	_ graphql.HandlerExtension    = (*CatalogCache)(nil)
	_ graphql.ResponseInterceptor = (*CatalogCache)(nil)
)

// ExtensionName implements graphql.HandlerExtension.
func (c *CatalogCache) ExtensionName() string { return "CatalogCache" }

// Validate implements graphql.HandlerExtension.
func (c *CatalogCache) Validate(graphql.ExecutableSchema) error { return nil }

// Invalidate makes every cached response stale.
func (c *CatalogCache) Invalidate() { c.version.Add(1) }

// cacheableFields are the root query fields whose answer depends only on the catalog and on
// whether the caller is authenticated.
var cacheableFields = map[string]bool{"products": true, "product": true, "categories": true, "category": true, "__typename": true}

// catalogMutations change what cacheableFields answer.
var catalogMutations = map[string]bool{
	"createProduct": true, "upsertProduct": true, "deleteProduct": true,
	"createCategory": true, "renameCategory": true, "deleteCategory": true,
}

// InterceptResponse implements graphql.ResponseInterceptor.
func (c *CatalogCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil {
		return next(ctx)
	}
	switch op.Operation.Operation {
	case ast.Mutation:
		if anyRootField(op, "Mutation", catalogMutations) {
			defer c.Invalidate() // after the mutation's transaction has committed
		}
		return next(ctx)
	case ast.Query:
	default:
		return next(ctx)
	}
	if !onlyFields(op.Operation.SelectionSet, cacheableFields) {
		return next(ctx)
	}
	caller, err := auth.Optional(ctx)
	if err != nil {
		return next(ctx) // the token error must be reported
	}
	key, ok := cacheKey(op, caller != nil)
	if !ok {
		return next(ctx)
	}
	version := c.version.Load()
	if e, ok := c.entries.Get(ctx, key); ok && e.version == version && time.Since(e.stored) < c.maxAge {
		resp := *e.resp
		return &resp
	}
	resp := next(ctx)
	if resp != nil && len(resp.Errors) == 0 && len(resp.Data) <= c.maxBytes {
		c.entries.Add(ctx, key, &cachedResponse{version: version, stored: time.Now(), resp: resp})
	}
	return resp
}

// anyRootField reports whether the operation selects a field in names at its root. Fields are
// collected as execution will collect them: through inline fragments and fragment spreads, with
// @skip and @include applied, whatever their alias.
func anyRootField(op *graphql.OperationContext, rootType string, names map[string]bool) bool {
	for _, f := range graphql.CollectFields(op, op.Operation.SelectionSet, []string{rootType}) {
		if names[f.Name] {
			return true
		}
	}
	return false
}

// onlyFields reports whether a selection set is one or more fields, all in names. A fragment
// disqualifies it: this runs on every query, and the documents worth caching have no root fragments,
// so it does not pay for collecting fields as anyRootField does.
func onlyFields(sel ast.SelectionSet, names map[string]bool) bool {
	for _, s := range sel {
		if f, ok := s.(*ast.Field); !ok || !names[f.Name] {
			return false
		}
	}
	return len(sel) > 0
}

// cacheKey identifies a response: the document, the operation, the variables and the caller class.
func cacheKey(op *graphql.OperationContext, authenticated bool) (string, bool) {
	vars, err := json.Marshal(op.Variables) // map keys come out sorted: equal variables, equal bytes
	if err != nil {
		return "", false
	}
	h := sha256.New()
	h.Write([]byte(op.RawQuery))
	h.Write([]byte{0})
	h.Write([]byte(op.OperationName))
	h.Write([]byte{0})
	h.Write(vars)
	if authenticated {
		h.Write([]byte{1})
	}
	return string(h.Sum(nil)), true
}
