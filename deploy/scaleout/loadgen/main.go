// Command loadgen sends a bounded load to myapi (through nginx in the
// scale-out test, deploy/scaleout/run.sh) and reports, as JSON, what every
// request got: status counts, transport errors, error bodies without a
// "detail", the slowest answer, a timeline, and the ids of the items whose
// creation was acknowledged with a 2xx (so the test can check that none of
// them was lost).
//
//	loadgen -base https://127.0.0.1:8443 -cacert cert.pem -duration 20s \
//	        -concurrency 6 -mode mixed -token "$TOKEN" -ids ids.txt
//
// Modes: "get" repeats GET -path; "mixed" loops POST /items (needs -token),
// GET /items/{id} of the new item, GET -path. It only ever talks to -base
// and stops by itself after -duration.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

type options struct {
	base        string
	path        string
	mode        string
	token       string
	cacert      string
	idsFile     string
	duration    time.Duration
	timeout     time.Duration
	pause       time.Duration
	bucket      time.Duration
	concurrency int
	label       string
}

// result is one request's outcome.
type result struct {
	at      time.Time
	latency time.Duration
	method  string
	status  int    // 0: transport error
	err     string // transport error, or the body of a non-2xx without "detail"
	detail  bool   // a non-2xx body had a string "detail"
	itemID  int64  // POST /items acknowledged with 2xx
}

// Bucket is one slice of the timeline.
type Bucket struct {
	StartMS int64 `json:"start_ms"` // since start
	OK      int   `json:"ok"`
	Fail    int   `json:"fail"`
}

// Summary is what loadgen prints.
type Summary struct {
	Label               string         `json:"label"`
	StartUnixMS         int64          `json:"start_unix_ms"`
	EndUnixMS           int64          `json:"end_unix_ms"`
	Requests            int            `json:"requests"`
	OK                  int            `json:"ok"`
	Failed              int            `json:"failed"`
	Status              map[string]int `json:"status"`
	ByMethod            map[string]int `json:"failed_by_method"`
	TransportErrors     int            `json:"transport_errors"`
	Non2xxWithDetail    int            `json:"non2xx_with_detail"`
	Non2xxWithoutDetail int            `json:"non2xx_without_detail"`
	Samples             []string       `json:"samples"`
	MaxLatencyMS        float64        `json:"max_latency_ms"`
	P99LatencyMS        float64        `json:"p99_latency_ms"`
	WritesOK            int            `json:"writes_ok"`
	FirstFailUnixMS     int64          `json:"first_fail_unix_ms"`
	LastFailUnixMS      int64          `json:"last_fail_unix_ms"`
	Timeline            []Bucket       `json:"timeline"`
}

func main() {
	var o options
	flag.StringVar(&o.base, "base", "", "base URL, e.g. https://127.0.0.1:8443 (loopback only)")
	flag.StringVar(&o.path, "path", "/items?skip=0&limit=10", "path of the GET requests")
	flag.StringVar(&o.mode, "mode", "get", "get | mixed")
	flag.StringVar(&o.token, "token", "", "bearer access token (mixed mode)")
	flag.StringVar(&o.cacert, "cacert", "", "PEM file of the CA that signed the server's certificate")
	flag.StringVar(&o.idsFile, "ids", "", "write the ids of items created with a 2xx here, one per line")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send requests")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Second, "per-request timeout (a hang shows as a transport error)")
	flag.DurationVar(&o.pause, "pause", 0, "pause between requests of one worker")
	flag.DurationVar(&o.bucket, "bucket", 500*time.Millisecond, "timeline resolution")
	flag.IntVar(&o.concurrency, "concurrency", 4, "parallel workers")
	flag.StringVar(&o.label, "label", "", "label copied into the summary")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
}

func run(o options, out io.Writer) error {
	if o.base == "" {
		return errors.New("-base is required")
	}
	if o.mode != "get" && o.mode != "mixed" {
		return fmt.Errorf("-mode %q: want get or mixed", o.mode)
	}
	if o.mode == "mixed" && o.token == "" {
		return errors.New("-mode mixed needs -token")
	}
	if o.concurrency < 1 || o.duration <= 0 {
		return errors.New("-concurrency and -duration must be positive")
	}
	client, err := newClient(o)
	if err != nil {
		return err
	}

	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(o.duration))
	defer cancel()
	results := make([][]result, o.concurrency)
	var wg sync.WaitGroup
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			results[w] = worker(ctx, client, o, w, start)
		}(w)
	}
	wg.Wait()
	end := time.Now()

	var all []result
	for _, rs := range results {
		all = append(all, rs...)
	}
	s := summarize(o, all, start, end)
	if o.idsFile != "" {
		if err := writeIDs(o.idsFile, all); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func newClient(o options) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = o.concurrency * 2
	tr.MaxIdleConnsPerHost = o.concurrency * 2
	tr.ForceAttemptHTTP2 = false
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", o.cacert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{
		Transport: tr,
		Timeout:   o.timeout,
		// A redirect is an answer to check, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

func worker(ctx context.Context, c *http.Client, o options, w int, start time.Time) []result {
	var rs []result
	for n := 0; ctx.Err() == nil; n++ {
		if o.mode == "get" {
			rs = append(rs, do(c, o, http.MethodGet, o.path, nil))
		} else {
			title := fmt.Sprintf("loadgen %s w%d n%d %d", o.label, w, n, start.UnixNano())
			body, _ := json.Marshal(map[string]any{"title": title, "price": 1.25})
			r := do(c, o, http.MethodPost, "/items", body)
			rs = append(rs, r)
			if r.itemID != 0 && ctx.Err() == nil {
				rs = append(rs, do(c, o, http.MethodGet, "/items/"+strconv.FormatInt(r.itemID, 10), nil))
			}
			if ctx.Err() == nil {
				rs = append(rs, do(c, o, http.MethodGet, o.path, nil))
			}
		}
		if o.pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(o.pause):
			}
		}
	}
	return rs
}

// do sends one request. It deliberately does not use the load's context:
// a request started before the deadline runs to its own end (or -timeout),
// so a slow answer is measured, not cut off.
func do(c *http.Client, o options, method, path string, body []byte) result {
	req, err := http.NewRequest(method, o.base+path, bytes.NewReader(body))
	if err != nil {
		return result{at: time.Now(), method: method, err: err.Error()}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	t0 := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return result{at: t0, latency: time.Since(t0), method: method, err: err.Error()}
	}
	data, readErr := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	r := result{at: t0, latency: time.Since(t0), method: method, status: res.StatusCode}
	if readErr != nil {
		r.status = 0
		r.err = "reading the body: " + readErr.Error()
		return r
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if method == http.MethodPost {
			var item struct {
				ID int64 `json:"id"`
			}
			if json.Unmarshal(data, &item) == nil {
				r.itemID = item.ID
			}
		}
		return r
	}
	var e struct {
		Detail *string `json:"detail"`
	}
	if json.Unmarshal(data, &e) == nil && e.Detail != nil && *e.Detail != "" {
		r.detail = true
		r.err = *e.Detail
	} else {
		r.err = string(data)
	}
	return r
}

func summarize(o options, all []result, start, end time.Time) Summary {
	s := Summary{
		Label:       o.label,
		StartUnixMS: start.UnixMilli(),
		EndUnixMS:   end.UnixMilli(),
		Status:      map[string]int{},
		ByMethod:    map[string]int{},
		Samples:     []string{},
		Timeline:    []Bucket{},
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	lat := make([]float64, 0, len(all))
	samples := map[string]bool{}
	for _, r := range all {
		s.Requests++
		ms := float64(r.latency.Microseconds()) / 1000
		lat = append(lat, ms)
		if ms > s.MaxLatencyMS {
			s.MaxLatencyMS = ms
		}
		b := int(r.at.Sub(start) / o.bucket)
		for len(s.Timeline) <= b {
			s.Timeline = append(s.Timeline, Bucket{StartMS: int64(len(s.Timeline)) * o.bucket.Milliseconds()})
		}
		ok := r.status >= 200 && r.status < 300
		if ok {
			s.OK++
			s.Status[strconv.Itoa(r.status)]++
			s.Timeline[b].OK++
			if r.itemID != 0 {
				s.WritesOK++
			}
			continue
		}
		s.Failed++
		s.ByMethod[r.method]++
		s.Timeline[b].Fail++
		at := r.at.UnixMilli()
		if s.FirstFailUnixMS == 0 {
			s.FirstFailUnixMS = at
		}
		s.LastFailUnixMS = at
		var key string
		if r.status == 0 {
			s.TransportErrors++
			s.Status["transport_error"]++
			key = r.method + " error: " + r.err
		} else {
			s.Status[strconv.Itoa(r.status)]++
			if r.detail {
				s.Non2xxWithDetail++
				key = fmt.Sprintf("%s %d detail=%q", r.method, r.status, r.err)
			} else {
				s.Non2xxWithoutDetail++
				key = fmt.Sprintf("%s %d NO DETAIL: %.200s", r.method, r.status, r.err)
			}
		}
		if !samples[key] && len(samples) < 10 {
			samples[key] = true
			s.Samples = append(s.Samples, key)
		}
	}
	if len(lat) > 0 {
		sort.Float64s(lat)
		s.P99LatencyMS = lat[(len(lat)*99)/100]
	}
	return s
}

func writeIDs(path string, all []result) error {
	var buf bytes.Buffer
	for _, r := range all {
		if r.itemID != 0 {
			fmt.Fprintln(&buf, r.itemID)
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
