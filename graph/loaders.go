package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// loaderWait is how long a loader collects keys before it queries. gqlgen resolves the fields of a
// list's items concurrently, so they all arrive within microseconds.
const loaderWait = 500 * time.Microsecond

// Loaders batch the lookups that would otherwise cost one query per list item. They live for one
// request, so their caches never serve another caller's stale data.
type Loaders struct {
	ProductsByCategory *dataloadgen.Loader[int64, []*model.Product]
}

// NewLoaders returns fresh loaders reading from db.
func NewLoaders(db bun.IDB) *Loaders {
	return &Loaders{
		ProductsByCategory: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]*model.Product, error) {
			return store.ProductsByCategoryIDs(ctx, db, ids)
		}, dataloadgen.WithWait(loaderWait)),
	}
}

type loadersKey struct{}

// LoaderMiddleware gives every request its own Loaders.
func LoaderMiddleware(db bun.IDB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), loadersKey{}, NewLoaders(db))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func loaders(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(*Loaders)
}
