// Package baseline is the reference implementation the catalog query is benchmarked against: a
// hand-written handler on net/http and database/sql with the same token check as the server, no
// GraphQL engine, the same reads (the page, its categories, the total count) and the same JSON.
//
// It serves exactly one request, the catalog query of issue 5:
//
//	{ products(first: 50) { items { name price category { name } } totalCount pageInfo { endCursor hasNextPage } } }
//
// whatever the document says (the body is decoded, not interpreted), with the page given by the
// variables "first" (default 50) and "after" (a cursor), if any: the long-tail load of issue 12
// asks for random pages of 10, 20 or 50 after random products. app/baseline_test.go proves it
// answers the same JSON as the server; app/bench_test.go and cmd/loadtest compare their speed.
package baseline

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/shopql/shopql/auth"
)

// pageSize is the catalog query's `first` when the variables do not give one.
const pageSize = 50

type category struct {
	Name string `json:"name"`
}

type item struct {
	Name     string    `json:"name"`
	Price    float64   `json:"price"`
	Category *category `json:"category"`
}

type page struct {
	Items      []item `json:"items"`
	TotalCount int    `json:"totalCount"`
	PageInfo   struct {
		EndCursor   *string `json:"endCursor"`
		HasNextPage bool    `json:"hasNextPage"`
	} `json:"pageInfo"`
}

type response struct {
	Data struct {
		Products page `json:"products"`
	} `json:"data"`
}

// Handler serves the catalog query from db (PostgreSQL when postgres is true, else SQLite),
// authenticating the bearer token with svc exactly as the server does.
func Handler(db *sql.DB, postgres bool, svc *auth.Service) http.Handler {
	h := &handler{db: db, postgres: postgres, svc: svc}
	return http.HandlerFunc(h.serve)
}

type handler struct {
	db       *sql.DB
	postgres bool
	svc      *auth.Service
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string `json:"query"`
		Variables struct {
			First *int   `json:"first"`
			After string `json:"after"`
		} `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	q := pageQuery{first: pageSize}
	if f := req.Variables.First; f != nil && *f >= 0 && *f <= 100 {
		q.first = *f
	}
	if req.Variables.After != "" {
		raw, err := base64.RawURLEncoding.DecodeString(req.Variables.After)
		id, ok := strings.CutPrefix(string(raw), "p:")
		if q.afterID, _ = strconv.ParseInt(id, 10, 64); err != nil || !ok || q.afterID <= 0 {
			http.Error(w, "bad cursor", http.StatusBadRequest)
			return
		}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	if _, err := h.svc.Authenticate(token); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var out response
	if err := h.load(r.Context(), q, &out.Data.Products); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&out)
}

// pageQuery is the page asked for: first products after the product afterID (0: from the start).
type pageQuery struct {
	first   int
	afterID int64
}

// load fills p with three queries: the page, the categories of its products, the total count.
func (h *handler) load(ctx context.Context, q pageQuery, p *page) error {
	categoryIDs, err := h.products(ctx, q, p)
	if err != nil {
		return err
	}
	if err := h.categories(ctx, p, categoryIDs); err != nil {
		return err
	}
	return h.db.QueryRowContext(ctx, "SELECT COALESCE(SUM(product_count), 0) FROM categories").Scan(&p.TotalCount)
}

// products reads the page and its page info, and returns each item's category ID.
func (h *handler) products(ctx context.Context, q pageQuery, p *page) ([]int64, error) {
	rows, err := h.db.QueryContext(ctx, "SELECT id, name, price, category_id FROM products WHERE id > "+h.ph(1)+" ORDER BY id LIMIT "+h.ph(2), q.afterID, q.first+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids, categoryIDs []int64
	p.Items = make([]item, 0, q.first+1) // [] rather than null for an empty page, as the server
	for rows.Next() {
		var it item
		var id, cat int64
		if err := rows.Scan(&id, &it.Name, &it.Price, &cat); err != nil {
			return nil, err
		}
		p.Items = append(p.Items, it)
		ids, categoryIDs = append(ids, id), append(categoryIDs, cat)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(p.Items) > q.first {
		p.Items, ids, categoryIDs = p.Items[:q.first], ids[:q.first], categoryIDs[:q.first]
		p.PageInfo.HasNextPage = true
	}
	if len(ids) > 0 {
		c := base64.RawURLEncoding.EncodeToString([]byte("p:" + strconv.FormatInt(ids[len(ids)-1], 10)))
		p.PageInfo.EndCursor = &c
	}
	return categoryIDs, nil
}

// categories reads the distinct categories of the page in one query and attaches them to its items.
func (h *handler) categories(ctx context.Context, p *page, categoryIDs []int64) error {
	unique := map[int64]*category{}
	args := make([]any, 0, len(categoryIDs))
	for _, id := range categoryIDs {
		if _, seen := unique[id]; !seen {
			unique[id] = nil
			args = append(args, id)
		}
	}
	if len(args) == 0 {
		return nil
	}
	marks := make([]string, len(args))
	for i := range marks {
		marks[i] = h.ph(i + 1)
	}
	rows, err := h.db.QueryContext(ctx, "SELECT id, name FROM categories WHERE id IN ("+strings.Join(marks, ",")+")", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		c := new(category)
		if err := rows.Scan(&id, &c.Name); err != nil {
			return err
		}
		unique[id] = c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range p.Items {
		p.Items[i].Category = unique[categoryIDs[i]]
	}
	return nil
}

// ph is placeholder i (from 1) in the database's syntax.
func (h *handler) ph(i int) string {
	if h.postgres {
		return "$" + strconv.Itoa(i)
	}
	return "?"
}
