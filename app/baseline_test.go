package app_test

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/store"
)

// baselineHandler is the hand-written reference the catalogue query is measured against: net/http,
// database/sql and the same token check, no GraphQL engine, the same reads (the page, its categories,
// the count) and the same JSON. It serves only that one query.
func baselineHandler(db *sql.DB, postgres bool, svc *auth.Service) http.Handler {
	// placeholder i (from 1) in the database's syntax
	ph := func(i int) string {
		if postgres {
			return "$" + strconv.Itoa(i)
		}
		return "?"
	}
	type category struct {
		Name string `json:"name"`
	}
	type item struct {
		Name     string    `json:"name"`
		Price    float64   `json:"price"`
		Category *category `json:"category"`
	}
	type response struct {
		Data struct {
			Products struct {
				Items      []item `json:"items"`
				TotalCount int    `json:"totalCount"`
				PageInfo   struct {
					EndCursor   *string `json:"endCursor"`
					HasNextPage bool    `json:"hasNextPage"`
				} `json:"pageInfo"`
			} `json:"products"`
		} `json:"data"`
	}
	fail := func(w http.ResponseWriter, code int, msg string) {
		http.Error(w, msg, code)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query string `json:"query"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			fail(w, http.StatusBadRequest, "bad request")
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			fail(w, http.StatusUnauthorized, "no token")
			return
		}
		if _, err := svc.Authenticate(token); err != nil {
			fail(w, http.StatusUnauthorized, err.Error())
			return
		}
		ctx := r.Context()
		const first = 50
		rows, err := db.QueryContext(ctx, "SELECT id, name, price, category_id FROM products ORDER BY id LIMIT "+ph(1), first+1)
		if err != nil {
			fail(w, http.StatusInternalServerError, err.Error())
			return
		}
		var out response
		var ids []int64
		var categoryIDs []int64
		for rows.Next() {
			var it item
			var id, cat int64
			if err := rows.Scan(&id, &it.Name, &it.Price, &cat); err != nil {
				fail(w, http.StatusInternalServerError, err.Error())
				return
			}
			out.Data.Products.Items = append(out.Data.Products.Items, it)
			ids, categoryIDs = append(ids, id), append(categoryIDs, cat)
		}
		rows.Close()
		page := &out.Data.Products
		if len(page.Items) > first {
			page.Items, ids, categoryIDs = page.Items[:first], ids[:first], categoryIDs[:first]
			page.PageInfo.HasNextPage = true
		}
		if len(ids) > 0 {
			c := base64.RawURLEncoding.EncodeToString([]byte("p:" + strconv.FormatInt(ids[len(ids)-1], 10)))
			page.PageInfo.EndCursor = &c
		}

		unique := map[int64]*category{}
		args := make([]any, 0, len(categoryIDs))
		for _, id := range categoryIDs {
			if _, seen := unique[id]; !seen {
				unique[id] = nil
				args = append(args, id)
			}
		}
		if len(args) > 0 {
			marks := make([]string, len(args))
			for i := range marks {
				marks[i] = ph(i + 1)
			}
			q := "SELECT id, name FROM categories WHERE id IN (" + strings.Join(marks, ",") + ")"
			rows, err = db.QueryContext(ctx, q, args...)
			if err != nil {
				fail(w, http.StatusInternalServerError, err.Error())
				return
			}
			for rows.Next() {
				var id int64
				c := new(category)
				if err := rows.Scan(&id, &c.Name); err != nil {
					fail(w, http.StatusInternalServerError, err.Error())
					return
				}
				unique[id] = c
			}
			rows.Close()
			for i := range page.Items {
				page.Items[i].Category = unique[categoryIDs[i]]
			}
		}
		if err := db.QueryRowContext(ctx, "SELECT COALESCE(SUM(product_count), 0) FROM categories").Scan(&page.TotalCount); err != nil {
			fail(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&out)
	})
}

// BenchmarkCatalogueBaseline serves the catalogue query with baselineHandler on the same data as
// BenchmarkCatalogueAuthenticated: compare the two in one run.
func BenchmarkCatalogueBaseline(b *testing.B) {
	s, token := benchShop(b)
	h := baselineHandler(s.App.DB.DB, store.IsPostgres(s.App.DB), s.App.Auth)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, h, catalogueQuery, token)
		}
	})
}

// TestBaselineMatchesServer keeps the comparison honest: both answer the same JSON.
func TestBaselineMatchesServer(t *testing.T) {
	s, token := benchShop(t)
	ours := record(t, s.App.Handler(), catalogueQuery, token)
	theirs := record(t, baselineHandler(s.App.DB.DB, store.IsPostgres(s.App.DB), s.App.Auth), catalogueQuery, token)
	var a, b any
	if err := json.Unmarshal(ours, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(theirs, &b); err != nil {
		t.Fatal(err)
	}
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if string(aj) != string(bj) {
		t.Fatalf("responses differ:\nours:     %.300s\nbaseline: %.300s", aj, bj)
	}
}
