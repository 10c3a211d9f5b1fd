// Command report turns the JSON files of one bench/run.sh sitting into
// bench/RESULTS.md, and measures the one-core bcrypt time that "POST
// /auth/login is limited only by the cores" is judged against.
//
//	report summarize -dir bench/results -o bench/RESULTS.md [-notes bench/NOTES.md]
//	report bcrypt -cost 12 -n 5          # prints JSON on stdout
//
// It uses the standard library and golang.org/x/crypto (already a dependency
// of myapi, and the bcrypt the server itself uses).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: report summarize -dir DIR -o FILE [-notes FILE] | report bcrypt -cost N -n RUNS")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "summarize":
		err = summarizeCmd(os.Args[2:])
	case "bcrypt":
		err = bcryptCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------- bcrypt

// BcryptTiming is what `report bcrypt` prints: one goroutine, one core.
type BcryptTiming struct {
	Cost       int       `json:"cost"`
	Runs       int       `json:"runs"`
	MinMs      float64   `json:"min_ms"`
	MedianMs   float64   `json:"median_ms"`
	AllMs      []float64 `json:"all_ms"`
	GoVersion  string    `json:"go"`
	GOMAXPROCS int       `json:"gomaxprocs"`
}

func bcryptCmd(args []string) error {
	fl := flag.NewFlagSet("bcrypt", flag.ContinueOnError)
	cost := fl.Int("cost", 12, "bcrypt cost")
	n := fl.Int("n", 5, "timed CompareHashAndPassword runs")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return errors.New("-n must be at least 1")
	}
	pw := []byte("benchpassword123")
	hash, err := bcrypt.GenerateFromPassword(pw, *cost)
	if err != nil {
		return err
	}
	t := BcryptTiming{Cost: *cost, Runs: *n, GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	for i := 0; i < *n; i++ {
		start := time.Now()
		if err := bcrypt.CompareHashAndPassword(hash, pw); err != nil {
			return err
		}
		t.AllMs = append(t.AllMs, round3(float64(time.Since(start).Microseconds())/1000))
	}
	s := append([]float64(nil), t.AllMs...)
	sort.Float64s(s)
	t.MinMs, t.MedianMs = s[0], s[len(s)/2]
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// ---------------------------------------------------------------- inputs

// Latency is bench.sh's latency_ms object.
type Latency struct {
	Mean  float64 `json:"mean"`
	Stdev float64 `json:"stdev"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Scenario is one wrk run as bench.sh (and run.sh's extra runs) record it.
type Scenario struct {
	Scenario     string           `json:"scenario"`
	Method       string           `json:"method"`
	Path         string           `json:"path"`
	Connections  int              `json:"connections"`
	Duration     string           `json:"duration"`
	Requests     int64            `json:"requests"`
	RPS          *float64         `json:"rps"`
	Latency      *Latency         `json:"latency_ms"`
	Non2xx       *int64           `json:"non2xx"`
	StatusCounts map[string]int64 `json:"status_counts"`
	SocketErrors map[string]int64 `json:"socket_errors"`
	Error        string           `json:"error"`
}

func (s *Scenario) ok() bool { return s != nil && s.RPS != nil && s.Latency != nil }

func (s *Scenario) sockErrs() int64 {
	var n int64
	if s == nil {
		return 0
	}
	for _, v := range s.SocketErrors {
		n += v
	}
	return n
}

func (s *Scenario) non2xx() int64 {
	if s == nil || s.Non2xx == nil {
		return 0
	}
	return *s.Non2xx
}

// Run is one bench.sh output file.
type Run struct {
	Target     string `json:"target"`
	BaseURL    string `json:"base_url"`
	StartedUTC string `json:"started_utc"`
	Wrk        string `json:"wrk"`
	Warmup     string `json:"warmup"`
	Prep       struct {
		ItemsCreated int    `json:"items_created"`
		ItemsPath    string `json:"items_path"`
	} `json:"prep"`
	Scenarios []Scenario `json:"scenarios"`
}

func (r *Run) get(name string) *Scenario {
	if r == nil {
		return nil
	}
	for i := range r.Scenarios {
		if r.Scenarios[i].Scenario == name {
			return &r.Scenarios[i]
		}
	}
	return nil
}

// Meta describes the sitting (written by run.sh).
type Meta struct {
	DateUTC     string            `json:"date_utc"`
	FinishedUTC string            `json:"finished_utc"`
	ElapsedS    float64           `json:"elapsed_s"`
	Host        string            `json:"host"`
	Kernel      string            `json:"kernel"`
	NProc       int               `json:"nproc"`
	CPUModel    string            `json:"cpu_model"`
	MemTotal    string            `json:"mem_total"`
	IdleBefore  *int              `json:"cpu_idle_pct_before"`
	LoadBefore  string            `json:"loadavg_before"`
	LoadAfter   string            `json:"loadavg_after"`
	Go          string            `json:"go"`
	Wrk         string            `json:"wrk"`
	Python      string            `json:"python"`
	Postgres    string            `json:"postgres"`
	Redis       string            `json:"redis"`
	GitRev      string            `json:"git_rev"`
	Command     string            `json:"command"`
	Knobs       map[string]string `json:"knobs"`
}

// LogStats summarises a server's log over the sitting.
type LogStats struct {
	File     string           `json:"file"`
	Lines    int64            `json:"lines"`
	Bytes    int64            `json:"bytes"`
	ByLevel  map[string]int64 `json:"by_level"`
	ByStatus map[string]int64 `json:"by_status"`
	Problems []string         `json:"problems"`
}

// Extra is what run.sh measures around bench.sh for one server.
type Extra struct {
	Target      string    `json:"target"`
	PID         int       `json:"pid"`
	PeakRSSKB   int64     `json:"peak_rss_kb"`
	RSSEndKB    int64     `json:"rss_end_kb"`
	Threads     int       `json:"threads"`
	HealthIdle  *Scenario `json:"health_idle"`
	MixedLogin  *Scenario `json:"mixed_login"`
	MixedHealth *Scenario `json:"mixed_health"`
	Log         *LogStats `json:"log"`
	ExitCode    *int      `json:"exit_code"`
	StopSeconds *float64  `json:"stop_seconds"`
}

func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// ---------------------------------------------------------------- summarize

// sitting is everything one run.sh left in its results directory.
type sitting struct {
	meta                   Meta
	baseline, seed, myapi  *Run
	myapiNoCache           *Run
	myapiRedis             *Run // REDIS_PASS: cache and rate limits in Redis
	myapiExtra, seedExtra  *Extra
	redisExtra             *RedisExtra
	obs                    *ObsAB // OBS_AB_ROUNDS: metrics + logging ON vs OFF
	bcrypt                 *BcryptTiming
	cpu                    cpuAccounting
	hasMeta                bool
	baselineFile, seedFile string
	myapiFile, noCacheFile string
	redisFile              string
	notes                  string
}

func load(dir string) (*sitting, error) {
	s := &sitting{baselineFile: "go-baseline.json", seedFile: "fastapi-seed-1w.json", myapiFile: "myapi-pg.json",
		noCacheFile: "myapi-pg-nocache.json", redisFile: "myapi-pg-redis.json"}
	var err error
	if s.hasMeta, err = readJSON(filepath.Join(dir, "meta.json"), &s.meta); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		file string
		dst  **Run
	}{{s.baselineFile, &s.baseline}, {s.seedFile, &s.seed}, {s.myapiFile, &s.myapi}, {s.noCacheFile, &s.myapiNoCache},
		{s.redisFile, &s.myapiRedis}} {
		var r Run
		ok, err := readJSON(filepath.Join(dir, t.file), &r)
		if err != nil {
			return nil, err
		}
		if ok {
			*t.dst = &r
		}
	}
	for _, t := range []struct {
		file string
		dst  **Extra
	}{{"myapi-extra.json", &s.myapiExtra}, {"fastapi-seed-extra.json", &s.seedExtra}} {
		var e Extra
		ok, err := readJSON(filepath.Join(dir, t.file), &e)
		if err != nil {
			return nil, err
		}
		if ok {
			*t.dst = &e
		}
	}
	var re RedisExtra
	ok, err := readJSON(filepath.Join(dir, "myapi-redis-extra.json"), &re)
	if err != nil {
		return nil, err
	}
	if ok {
		s.redisExtra = &re
	}
	var ab ObsAB
	if ok, err = readJSON(filepath.Join(dir, "myapi-obs-ab.json"), &ab); err != nil {
		return nil, err
	}
	if ok {
		for i := range ab.Runs {
			var r Run
			found, err := readJSON(filepath.Join(dir, filepath.Base(ab.Runs[i].File)), &r)
			if err != nil {
				return nil, err
			}
			if found {
				ab.Runs[i].run = &r
			}
		}
		s.obs = &ab
	}
	if s.cpu, err = loadCPU(dir); err != nil {
		return nil, err
	}
	var b BcryptTiming
	ok, err = readJSON(filepath.Join(dir, "bcrypt.json"), &b)
	if err != nil {
		return nil, err
	}
	if ok {
		s.bcrypt = &b
	}
	if s.baseline == nil && s.seed == nil && s.myapi == nil {
		return nil, fmt.Errorf("%s: no bench.sh results (%s, %s, %s)", dir, s.baselineFile, s.seedFile, s.myapiFile)
	}
	return s, nil
}

func summarizeCmd(args []string) error {
	fl := flag.NewFlagSet("summarize", flag.ContinueOnError)
	dir := fl.String("dir", "bench/results", "results directory of one sitting")
	out := fl.String("o", "-", "markdown output file (- = stdout)")
	notes := fl.String("notes", "", "optional markdown file appended as hand-written notes")
	if err := fl.Parse(args); err != nil {
		return err
	}
	s, err := load(*dir)
	if err != nil {
		return err
	}
	if *notes != "" {
		b, err := os.ReadFile(*notes)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		s.notes = strings.TrimSpace(string(b))
	}
	md := s.markdown()
	if *out == "-" {
		_, err = os.Stdout.WriteString(md)
		return err
	}
	return os.WriteFile(*out, []byte(md), 0o644)
}

// judgement is one row of the targets table.
type judgement struct {
	what, measured, goal string
	met                  *bool // nil: not measured
	note                 string
	noisy                bool // a run involved was disturbed by other processes
}

func verdict(j judgement) string {
	v := "**not met**"
	switch {
	case j.met == nil && j.measured != "":
		return "not judged" // measured, but not what the target is about (see the note)
	case j.met == nil:
		return "not measured"
	case *j.met:
		v = "**met**"
	}
	if j.noisy {
		v += " (noisy run: repeat)"
	}
	return v
}

func ptr(b bool) *bool { return &b }

// clean reports whether a run had no non-2xx answers and no timeouts: a
// ratio from a run full of fast errors would flatter the server.
func clean(s *Scenario) (bool, string) {
	if s == nil {
		return false, ""
	}
	var why []string
	if n := s.non2xx(); n > 0 {
		why = append(why, fmt.Sprintf("%d non-2xx", n))
	}
	if n := s.SocketErrors["timeout"]; n > 0 {
		why = append(why, fmt.Sprintf("%d timeouts", n))
	}
	return len(why) == 0, strings.Join(why, ", ")
}

// runKey is the base name of a Run's file: the key of its CPU accounting.
func (s *sitting) runKey(r *Run) string {
	switch r {
	case s.baseline:
		return strings.TrimSuffix(s.baselineFile, ".json")
	case s.seed:
		return strings.TrimSuffix(s.seedFile, ".json")
	case s.myapi:
		return strings.TrimSuffix(s.myapiFile, ".json")
	case s.myapiNoCache:
		return strings.TrimSuffix(s.noCacheFile, ".json")
	case s.myapiRedis:
		return strings.TrimSuffix(s.redisFile, ".json")
	}
	return ""
}

// noisy returns a note when processes outside the benchmark (or the
// hypervisor) took a noticeable share of the cores during a run.
func (s *sitting) noisy(label, run, scenario string) string {
	u, ok := s.cpu.get(run, scenario)
	if !ok || u.Other+u.Steal < noiseCores {
		return ""
	}
	return fmt.Sprintf("other processes took %.2f cores during the %s run", u.Other+u.Steal, label)
}

// noiseCores is how much CPU taken by processes outside the benchmark makes
// a run suspect (run.sh's NOISE_MAX has the same default).
const noiseCores = 0.25

func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

func (s *sitting) targets() []judgement {
	var js []judgement
	// health vs the bare Go handler
	{
		j := judgement{what: "GET /health vs bare Go baseline", goal: "≥ 70 %"}
		b, m := s.baseline.get("health"), s.myapi.get("health")
		if b.ok() && m.ok() && *b.RPS > 0 {
			r := *m.RPS / *b.RPS
			j.measured = fmt.Sprintf("%.0f %% (%s / %s req/s)", 100*r, figure(*m.RPS), figure(*b.RPS))
			c, why := clean(m)
			j.met = ptr(r >= 0.70 && c)
			j.note = joinNotes(why, s.noisy("myapi", s.runKey(s.myapi), "health"), s.noisy("baseline", s.runKey(s.baseline), "health"))
		}
		js = append(js, j)
	}
	for _, t := range []struct {
		name, what string
		factor     float64
		run        *Run
	}{
		{"item_get", "GET /items/{id} vs FastAPI seed", 15, s.myapi},
		{"item_get", "— the same, myapi's response cache off", 15, s.myapiNoCache},
		{"items_list", "GET /items?skip=0&limit=10 vs FastAPI seed", 15, s.myapi},
		{"items_list", "— the same, myapi's response cache off", 15, s.myapiNoCache},
		{"users_me", "GET /users/me vs FastAPI seed", 15, s.myapi},
		{"items_post", "POST /items vs FastAPI seed", 10, s.myapi},
	} {
		if t.run == nil && t.run != s.myapi {
			continue // no cache-off pass in this sitting
		}
		j := judgement{what: t.what, goal: fmt.Sprintf("≥ %.0f×", t.factor)}
		f, m := s.seed.get(t.name), t.run.get(t.name)
		if f.ok() && m.ok() && *f.RPS > 0 {
			r := *m.RPS / *f.RPS
			j.measured = fmt.Sprintf("%.1f× (%s / %s req/s)", r, figure(*m.RPS), figure(*f.RPS))
			c, why := clean(m)
			j.met = ptr(r >= t.factor && c)
			j.note = joinNotes(why, s.noisy("myapi", s.runKey(t.run), t.name), s.noisy("seed", s.runKey(s.seed), t.name))
		}
		js = append(js, j)
	}
	// logins: as fast as nproc cores of bcrypt allow
	{
		j := judgement{what: "POST /auth/login limited only by the cores", goal: "≥ 75 % of nproc × one-core bcrypt rate"}
		// bench.sh's auth_login run; if other processes disturbed it and the
		// logins of the mixed run (same 10 connections) were not, judge on those.
		m, run, key, label := s.myapi.get("auth_login"), s.runKey(s.myapi), "auth_login", "auth_login"
		if e := s.myapiExtra; e != nil && e.MixedLogin.ok() && s.noisy("", run, key) != "" && s.noisy("", "myapi-extra", "mixed_login") == "" {
			m, run, key, label = e.MixedLogin, "myapi-extra", "mixed_login", "mixed-run logins (auth_login was disturbed)"
		}
		if m.ok() && s.bcrypt != nil && s.bcrypt.MedianMs > 0 {
			n := s.meta.NProc
			if n == 0 {
				n = s.bcrypt.GOMAXPROCS
			}
			ceiling := float64(n) * 1000 / s.bcrypt.MedianMs
			r := *m.RPS / ceiling
			j.measured = fmt.Sprintf("%.0f %% (%.1f req/s of %.1f = %d × 1000 / %.0f ms; %s)", 100*r, *m.RPS, ceiling, n, s.bcrypt.MedianMs, label)
			if f := s.seed.get("auth_login"); f.ok() && *f.RPS > 0 {
				j.measured += fmt.Sprintf("; %.1f× the seed", *m.RPS / *f.RPS)
			}
			c, why := clean(m)
			j.met = ptr(r >= 0.75 && c)
			j.note = joinNotes(why, s.noisy("myapi", run, key))
			if u, ok := s.cpu.get(run, key); ok && u.Server > 0 {
				j.note = joinNotes(j.note, fmt.Sprintf("myapi used %.2f cores, %.0f ms of CPU per login", u.Server, 1000*u.Server / *m.RPS))
			}
		}
		js = append(js, j)
	}
	// health p99 while logins run
	{
		j := judgement{what: "GET /health p99 while logins run", goal: "< 20 ms"}
		if e := s.myapiExtra; e != nil && e.MixedHealth.ok() {
			h := e.MixedHealth
			j.measured = fmt.Sprintf("%s ms (p50 %s, max %s; %s health req/s beside %s login req/s)",
				figure(h.Latency.P99), figure(h.Latency.P50), figure(h.Latency.Max), figure(*h.RPS), loginRPS(e.MixedLogin))
			c, why := clean(h)
			j.met = ptr(h.Latency.P99 < 20 && c)
			j.note = joinNotes(why, s.noisy("mixed", "myapi-extra", "mixed_health"))
		}
		js = append(js, j)
	}
	// memory
	{
		j := judgement{what: "peak RSS of myapi over the whole sitting (VmHWM)", goal: "≤ 64 MiB"}
		if e := s.myapiExtra; e != nil && e.PeakRSSKB > 0 {
			mib := float64(e.PeakRSSKB) / 1024
			j.measured = fmt.Sprintf("%.1f MiB", mib)
			j.met = ptr(mib <= 64)
		}
		js = append(js, j)
	}
	// issue 3, point 5: cached reads from Redis; issue 4, point 7: metrics + logging
	js = append(js, s.redisTargets()...)
	js = append(js, s.obsTarget())
	return js
}

func loginRPS(s *Scenario) string {
	if !s.ok() {
		return "–"
	}
	return fmt.Sprintf("%.1f", *s.RPS)
}

// figure formats a rate or a latency with about three significant digits:
// 13209, 19.7, 3.28.
func figure(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

var scenarioTitles = []struct{ name, title string }{
	{"health", "health — GET /health"},
	{"item_get", "item_get — GET /items/{id}"},
	{"items_list", "items_list — GET /items?skip=0&limit=10"},
	{"users_me", "users_me — GET /users/me (Bearer)"},
	{"items_post", "items_post — POST /items (JSON)"},
	{"auth_login", "auth_login — POST /auth/login (form, bcrypt cost 12)"},
}

func (s *sitting) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := s.meta

	p("# Benchmark results: myapi vs the FastAPI seed vs a bare Go handler\n\n")
	p("Generated by `bench/report` from `bench/results/` (one sitting of `bench/run.sh`); ")
	p("see bench/README.md for what each number means.\n\n")
	if s.hasMeta {
		p("- **Date**: %s (UTC), sitting took %.0f s\n", m.DateUTC, m.ElapsedS)
		p("- **Machine**: %d CPUs (`nproc`), %s, %s RAM, %s\n", m.NProc, m.CPUModel, m.MemTotal, m.Kernel)
		p("- **Noise**: load average before %s, after %s", m.LoadBefore, m.LoadAfter)
		if m.IdleBefore != nil {
			p("; CPUs %d %% idle just before the first target", *m.IdleBefore)
		}
		p("\n")
		p("- **Software**: %s; %s; %s; %s", m.Go, m.Wrk, m.Python, m.Postgres)
		if m.Redis != "" {
			p("; %s", m.Redis)
		}
		p("\n")
		if m.GitRev != "" {
			p("- **myapi revision**: %s\n", m.GitRev)
		}
		p("- **Command** (from the repository root):\n\n      %s\n\n", m.Command)
		if len(m.Knobs) > 0 {
			keys := make([]string, 0, len(m.Knobs))
			for k := range m.Knobs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			kv := make([]string, len(keys))
			for i, k := range keys {
				kv[i] = k + "=" + m.Knobs[k]
			}
			p("- **Knobs** (same for every target): `%s`\n", strings.Join(kv, " "))
		}
	}
	p("\n> This is a **2-core, shared, noisy** machine: wrk (2 threads), PostgreSQL and the server\n")
	p("> under test compete for the same cores, so absolute figures move between sittings (the seed's\n")
	p("> own notes report ±10 %% for the 1-worker FastAPI server and up to ±2× for 2 workers). Only the\n")
	p("> **ratios within one sitting** are meaningful, and even they are single measurements.\n\n")

	p("## Targets (issue 2, point 12; issue 3, point 5; issue 4, point 7)\n\n")
	p("| target | measured | goal | verdict |\n|---|---|---|---|\n")
	for _, j := range s.targets() {
		j.noisy = strings.Contains(j.note, "other processes took")
		meas := j.measured
		if meas == "" {
			meas = "–"
		}
		if j.note != "" {
			meas += " — " + j.note
		}
		p("| %s | %s | %s | %s |\n", j.what, meas, j.goal, verdict(j))
	}
	p("\nA ratio counts as met only if myapi's run had no non-2xx answers and no wrk timeouts (in the ON/OFF\n")
	p("row: none of the runs). \"Not judged\": measured, but the note says why it is not what the target is about.\n")
	if len(s.cpu) > 0 {
		p("A run during which processes outside the benchmark took ≥ %.2f of the %d cores is flagged above (\"noisy run\") and in bold below.\n", noiseCores, max(s.meta.NProc, 1))
	}
	p("\n")

	p("## Scenarios\n\n")
	if len(s.cpu) > 0 {
		p("The last column is the average number of cores each party used during the recorded run, from\n")
		p("`/proc` sampled every second (`results/cpu-samples.txt`): the server under test, PostgreSQL\n")
		p("(all its processes), Redis (every redis-server process on the machine), wrk, and everything else (other users' work, the\n")
		p("sampler, unattributed kernel time). The machine has %d; what \"other\" takes, the benchmark lacks.\n\n", max(s.meta.NProc, 1))
	}
	targets := []struct {
		label string
		run   *Run
	}{
		{"bare Go baseline (stdlib, no DB, no logs)", s.baseline},
		{"FastAPI seed, 1 uvicorn worker", s.seed},
		{"myapi on PostgreSQL", s.myapi},
		{"myapi, response cache off", s.myapiNoCache},
		{"myapi, cache and rate limits in Redis", s.myapiRedis},
	}
	for _, t := range targets {
		if t.run != nil {
			p("- %s: `%s`, %s\n", t.label, t.run.Target, t.run.BaseURL)
		}
	}
	if s.myapi != nil {
		p("\nmyapi answers GET /items/{id} and GET /items from its response cache (in process without\n")
		p("REDIS_URL; `CACHE_TTL_SECONDS`, 60 s by default) once the first request has filled it, so its\n")
		p("item_get and items_list rows measure cache hits. The seed has no cache. The \"response cache off\"\n")
		p("rows are a second myapi process with `CACHE_TTL_SECONDS=0`: the database path.\n")
	}
	if r := s.redisParagraph(); r != "" {
		p("\n%s", r)
	}
	p("\n")
	for _, sc := range scenarioTitles {
		p("### %s\n\n", sc.title)
		p("| target | conns | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | socket errors | myapi ÷ this | CPU cores: server / PG / redis / wrk / other |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		my := s.myapi.get(sc.name)
		for _, t := range targets {
			x := t.run.get(sc.name)
			if x == nil {
				if t.run != nil && sc.name != "health" && t.run == s.baseline {
					continue // the baseline only has /health
				}
				if t.run == s.myapiNoCache || t.run == s.myapiRedis {
					continue // only some scenarios are run with the cache off or in Redis
				}
				p("| %s | | – | | | | | | | | |\n", t.label)
				continue
			}
			if !x.ok() {
				p("| %s | %d | error: %s | | | | | | | | |\n", t.label, x.Connections, x.Error)
				continue
			}
			ratio := ""
			if t.run != s.myapi && t.run != s.myapiNoCache && t.run != s.myapiRedis && my.ok() && *x.RPS > 0 {
				ratio = fmt.Sprintf("%.2f×", *my.RPS / *x.RPS)
			}
			if t.run == s.myapiNoCache {
				if f := s.seed.get(sc.name); f.ok() && *f.RPS > 0 {
					ratio = fmt.Sprintf("(%.1f× the seed)", *x.RPS / *f.RPS)
				}
			}
			if t.run == s.myapiRedis {
				ratio = s.redisRatio(sc.name, x)
			}
			p("| %s | %d | %s | %s | %s | %s | %s | %d | %d | %s | %s |\n", t.label, x.Connections, figure(*x.RPS),
				figure(x.Latency.P50), figure(x.Latency.P90), figure(x.Latency.P99), figure(x.Latency.Max), x.non2xx(), x.sockErrs(), ratio,
				s.cpuCell(s.runKey(t.run), sc.name))
		}
		p("\n")
	}

	if e := s.myapiExtra; e != nil {
		p("## GET /health while logins run (myapi)\n\n")
		p("Logins (wrk, %s connections, POST /auth/login, bcrypt cost 12) and, at the same time, a paced\n", conns(e.MixedLogin))
		p("health probe (wrk, %s connections, each pausing between requests; see `HEALTH_DELAY_MS`).\n", conns(e.MixedHealth))
		p("The idle row is the same probe with nothing else running.\n\n")
		p("| run | conns | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | socket errors | CPU cores: server / PG / redis / wrk / other |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range []struct {
			label, key string
			s          *Scenario
		}{{"health probe, idle server", "health_idle", e.HealthIdle}, {"logins", "mixed_login", e.MixedLogin},
			{"health probe during logins", "mixed_health", e.MixedHealth}} {
			if !r.s.ok() {
				p("| %s | | – | | | | | | | |\n", r.label)
				continue
			}
			x := r.s
			p("| %s | %d | %s | %s | %s | %s | %s | %d | %d | %s |\n", r.label, x.Connections, figure(*x.RPS),
				figure(x.Latency.P50), figure(x.Latency.P90), figure(x.Latency.P99), figure(x.Latency.Max), x.non2xx(), x.sockErrs(),
				s.cpuCell("myapi-extra", r.key))
		}
		if s.bcrypt != nil {
			p("\nOne bcrypt verification at cost %d takes %.0f ms on one core here (median of %d, Go's x/crypto/bcrypt, the server's own),\n",
				s.bcrypt.Cost, s.bcrypt.MedianMs, s.bcrypt.Runs)
			p("so %d cores allow at most ≈ %.1f logins/s.\n", max(s.meta.NProc, 1), float64(max(s.meta.NProc, 1))*1000/s.bcrypt.MedianMs)
		}
		p("\n")
	}

	p("%s", s.obsSection())

	p("## Memory and logs\n\n")
	p("| server | peak RSS (VmHWM) | RSS at end | threads | log lines | log by level | responses by status (log) | exit |\n")
	p("|---|---:|---:|---:|---:|---|---|---|\n")
	for _, r := range []struct {
		label string
		e     *Extra
	}{{"myapi", s.myapiExtra}, {"FastAPI seed (uvicorn process)", s.seedExtra}} {
		if r.e == nil {
			continue
		}
		e := r.e
		lines, levels, statuses := "–", "–", "–"
		if e.Log != nil {
			lines = strconv.FormatInt(e.Log.Lines, 10)
			levels = countMap(e.Log.ByLevel)
			statuses = countMap(e.Log.ByStatus)
		}
		exit := "–"
		if e.ExitCode != nil {
			exit = strconv.Itoa(*e.ExitCode)
			if e.StopSeconds != nil {
				exit += fmt.Sprintf(" after %.1f s", *e.StopSeconds)
			}
		}
		p("| %s | %.1f MiB | %.1f MiB | %d | %s | %s | %s | %s |\n", r.label, float64(e.PeakRSSKB)/1024,
			float64(e.RSSEndKB)/1024, e.Threads, lines, levels, statuses, exit)
	}
	for _, r := range []struct {
		label string
		e     *Extra
	}{{"myapi", s.myapiExtra}, {"FastAPI seed", s.seedExtra}} {
		if r.e == nil || r.e.Log == nil || len(r.e.Log.Problems) == 0 {
			continue
		}
		p("\nFirst warning/error lines of the %s log:\n\n```\n", r.label)
		for _, l := range r.e.Log.Problems {
			if len(l) > 400 {
				l = l[:400] + "…"
			}
			p("%s\n", l)
		}
		p("```\n")
	}
	p("\n")

	if s.notes != "" {
		p("## Notes (hand-written, from `bench/NOTES.md`)\n\n%s\n", s.notes)
	}
	return b.String()
}

// cpuCell is "server / PG / redis / wrk / other" cores during one run, with
// the hypervisor's steal added when there was any.
func (s *sitting) cpuCell(run, scenario string) string {
	u, ok := s.cpu.get(run, scenario)
	if !ok {
		return "–"
	}
	c := fmt.Sprintf("%.2f / %.2f / %.2f / %.2f / %.2f", u.Server, u.Postgres, u.Redis, u.Wrk, u.Other)
	if u.Steal >= 0.01 {
		c += fmt.Sprintf(" (+%.2f steal)", u.Steal)
	}
	if u.Other+u.Steal >= noiseCores {
		c = "**" + c + "**"
	}
	return c
}

func conns(s *Scenario) string {
	if s == nil {
		return "?"
	}
	return strconv.Itoa(s.Connections)
}

func countMap(m map[string]int64) string {
	if len(m) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
