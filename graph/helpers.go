package graph

import (
	"errors"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// anonymousMessage tells an anonymous caller of products why it sees only names.
const anonymousMessage = "Detailed info only after you login."

func newCatalog(page *store.ProductPage, filter store.ProductFilter) *model.ProductCatalog {
	c := &model.ProductCatalog{
		Detailed:   !filter.NamesOnly,
		Names:      make([]string, len(page.Products)),
		PageInfo:   &model.PageInfo{HasNextPage: page.HasNextPage, HasPreviousPage: filter.After != ""},
		CategoryID: filter.CategoryID,
	}
	if page.TotalKnown {
		c.KnownTotal = &page.Total
	}
	for i, p := range page.Products {
		c.Names[i] = p.Name
	}
	if cursor := page.EndCursor(); cursor != "" {
		c.PageInfo.EndCursor = &cursor
		start := page.StartCursor()
		c.PageInfo.StartCursor = &start
	}
	if c.Detailed {
		c.Items = page.Products
	} else {
		msg := anonymousMessage
		c.Message = &msg
	}
	return c
}

// newEdges pairs each product of a page with its cursor; nil (not detailed) stays nil.
func newEdges(items []*model.Product) []*model.ProductEdge {
	if items == nil {
		return nil
	}
	edges := make([]*model.ProductEdge, len(items))
	for i, p := range items {
		edges[i] = &model.ProductEdge{Cursor: store.Cursor(p), Node: p}
	}
	return edges
}

func productFields(in model.ProductInput) store.ProductFields {
	return store.ProductFields{Description: in.Description, Price: in.Price, Quantity: in.Quantity, CategoryID: in.CategoryID}
}

// nullIfNotFound serves fields whose schema says "null when there is none".
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

func deref[T any](p *T, fallback T) T {
	if p == nil {
		return fallback
	}
	return *p
}
