package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/shopql/shopql/app"
)

// seed implements `shopql seed`: fill the configured database with sample products.
func seed(args []string, stderr io.Writer) error {
	var n, categories int
	cfg, err := app.LoadConfig(args, os.Getenv, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&n, "products", 1000, "seed: number of sample products to add")
		fs.IntVar(&categories, "categories", 20, "seed: number of categories to spread them over")
	})
	if err != nil {
		return err
	}
	if n < 0 || categories < 1 {
		return fmt.Errorf("-products must be at least 0 and -categories at least 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bar := newProgressBar(stderr, n)
	err = app.Seed(ctx, cfg, n, categories, bar.update)
	bar.finish()
	return err
}

// progressBar draws one line that it rewrites in place.
type progressBar struct {
	w     io.Writer
	total int
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, total: total, start: time.Now()}
}

func (p *progressBar) update(done int) {
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done == p.total {
		p.last = now
		const width = 30
		filled := width
		if p.total > 0 {
			filled = width * done / p.total
		}
		rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-3)
		fmt.Fprintf(p.w, "\r[%s%s] %3d%% %d/%d products, %.0f/s ", strings.Repeat("#", filled),
			strings.Repeat(" ", width-filled), 100*done/max(p.total, 1), done, p.total, rate)
	}
}

func (p *progressBar) finish() {
	fmt.Fprintf(p.w, "\ndone in %s\n", time.Since(p.start).Round(time.Millisecond))
}
