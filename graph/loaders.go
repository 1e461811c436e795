package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// MaxCategoryProducts bounds the products that Category.products returns in one request, over every
// category in the response. The field is not paged, so without a bound one query
// ({ categories { products { name } } }, or the same through every product of a page) would load
// and serialise the whole catalog. A larger catalog is read page by page through
// products(categoryId:, first:, after:).
const MaxCategoryProducts = 1000

// loaderWait is how long a loader collects keys before it queries. gqlgen resolves the fields of a
// list's items concurrently, so they all arrive within microseconds.
const loaderWait = 500 * time.Microsecond

// Loaders batch the lookups that would otherwise cost one query per item, and keep count of what
// the request has been served against its bounds. They live for one request, so their caches never
// serve another caller's stale data. Each loader is built when the request first needs it: most
// requests never do. WithLoaders makes them, in the same allocation as their context.
type Loaders struct {
	db bun.IDB

	// productsByCategory merges the categories asked for by every Category.products in the request
	// (gqlgen batches the categories of one list, not those reached one by one through a list of
	// products) into one query. Use categoryLoader.
	productsByCategory *dataloadgen.Loader[int64, []*model.Product]
	buildCategories    sync.Once
	// categoryProducts counts the products Category.products has returned in this request.
	categoryProducts atomic.Int64
}

// categoryLoader is productsByCategory, built on first use (resolvers ask for it concurrently).
func (l *Loaders) categoryLoader() *dataloadgen.Loader[int64, []*model.Product] {
	l.buildCategories.Do(func() { l.productsByCategory = productsByCategoryLoader(l.db) })
	return l.productsByCategory
}

func productsByCategoryLoader(db bun.IDB) *dataloadgen.Loader[int64, []*model.Product] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]*model.Product, error) {
		byCategory, complete, err := store.ProductsByCategoryIDs(ctx, db, ids, MaxCategoryProducts)
		if err != nil {
			return nil, err
		}
		tooMany := dataloadgen.MappedFetchError[int64]{}
		for _, id := range ids {
			switch {
			case !complete(id):
				tooMany[id] = errTooManyCategoryProducts
			case byCategory[id] == nil:
				// A category without products: an empty list (a missing key would be
				// dataloadgen.ErrNotFound).
				byCategory[id] = []*model.Product{}
			}
		}
		if len(tooMany) > 0 {
			return byCategory, tooMany
		}
		return byCategory, nil
	}, dataloadgen.WithWait(loaderWait))
}

type loadersKey struct{}

func loaders(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(*Loaders)
}

// CategoryProducts lists the products of each category (gqlgen hands it the categories of a list
// at once: Category.products is a batch resolver). It fails when the lists would take the request
// past MaxCategoryProducts, counting a category as often as it appears: that is how often its
// products are serialised.
func (l *Loaders) CategoryProducts(ctx context.Context, cats []*model.Category) ([][]*model.Product, error) {
	ids := make([]int64, len(cats))
	for i, c := range cats {
		ids[i] = c.ID
	}
	lists, err := l.categoryLoader().LoadAll(ctx, ids)
	if err != nil {
		if errors.Is(err, errTooManyCategoryProducts) {
			return nil, errTooManyCategoryProducts // once, not once per category
		}
		return nil, err
	}
	total := 0
	for _, list := range lists {
		total += len(list)
	}
	if l.categoryProducts.Add(int64(total)) > MaxCategoryProducts {
		return nil, errTooManyCategoryProducts
	}
	return lists, nil
}

var errTooManyCategoryProducts = &model.InputError{
	Field: "products",
	Message: fmt.Sprintf("Category.products returns at most %d products in one request: "+
		"page through products(categoryId:, first:, after:) instead", MaxCategoryProducts),
}
