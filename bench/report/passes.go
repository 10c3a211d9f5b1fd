package main

// The two passes added for issues 3 and 4: myapi's cached reads with the
// response cache (and the rate limiter) in Redis, and the A/B runs of GET
// /health with metrics + INFO logging on and off.

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// ---------------------------------------------------------------- Redis pass

// XCacheCheck is run.sh's look at one cached route before the Redis pass's
// runs: the same GET twice, without a token, as wrk sends it.
type XCacheCheck struct {
	Scenario string   `json:"scenario"`
	Path     string   `json:"path"`
	Status   []int    `json:"status"`
	XCache   []string `json:"x_cache"`
	Hit      bool     `json:"hit"`
}

// answers is "200 MISS, then 200 HIT".
func (c XCacheCheck) answers() string {
	parts := make([]string, 0, len(c.Status))
	for i, st := range c.Status {
		x := "no X-Cache"
		if i < len(c.XCache) && c.XCache[i] != "" {
			x = c.XCache[i]
		}
		parts = append(parts, fmt.Sprintf("%d %s", st, x))
	}
	return strings.Join(parts, ", then ")
}

// RedisExtra is what run.sh records around the Redis pass
// (results/myapi-redis-extra.json).
type RedisExtra struct {
	RedisURL    string `json:"redis_url"`
	RedisServer string `json:"redis_server"`
	// CacheStore is the store myapi logged at start-up ("redis" or "memory").
	CacheStore  string        `json:"cache_store"`
	XCacheCheck []XCacheCheck `json:"xcache_check"`
	// CacheLookups are myapi's myapi_cache_requests_total counters read
	// after the runs: hit, miss, bypass (Redis unavailable), error.
	CacheLookups map[string]float64 `json:"cache_lookups"`
	// RedisStats are a few counters of the private Redis's INFO stats.
	RedisStats map[string]float64 `json:"redis_stats"`
	PeakRSSKB  int64              `json:"peak_rss_kb"`
}

// bypassShare is the share of cache lookups that did not get an answer
// from Redis (bypass: the breaker had Redis down; error: a failed call)
// above which the Redis pass's runs are not taken for Redis hits.
const bypassShare = 0.01

// redisProblem says why the Redis pass's runs of scenario can not be taken
// for reads served from Redis (void), or adds a remark (note) when the
// evidence is missing.
func (s *sitting) redisProblem(scenario string) (note string, void bool) {
	e := s.redisExtra
	if e == nil {
		return "no X-Cache check recorded (results/myapi-redis-extra.json)", false
	}
	var notes []string
	if e.CacheStore != "" && e.CacheStore != "redis" {
		notes = append(notes, fmt.Sprintf("myapi logged its cache store as %q, not redis", e.CacheStore))
		void = true
	}
	found := false
	for _, c := range e.XCacheCheck {
		if c.Scenario != scenario {
			continue
		}
		found = true
		if !c.Hit {
			notes = append(notes, fmt.Sprintf("X-Cache check: GET %s answered %s, not a Redis hit", c.Path, c.answers()))
			void = true
		}
	}
	if !found {
		notes = append(notes, "no X-Cache check of this route recorded")
	}
	var total float64
	for _, v := range e.CacheLookups {
		total += v
	}
	if missed := e.CacheLookups["bypass"] + e.CacheLookups["error"]; total > 0 && missed > bypassShare*total {
		notes = append(notes, fmt.Sprintf("%.0f of %.0f cache lookups bypassed Redis or failed", missed, total))
		void = true
	}
	return strings.Join(notes, "; "), void
}

func (s *sitting) redisTargets() []judgement {
	var js []judgement
	routes := []struct{ name, what string }{
		{"item_get", "GET /items/{id}"},
		{"items_list", "GET /items?skip=0&limit=10"},
	}
	// ≥ 40× the seed
	for _, t := range routes {
		j := judgement{what: t.what + " from Redis vs FastAPI seed", goal: "≥ 40×"}
		f, m := s.seed.get(t.name), s.myapiRedis.get(t.name)
		if f.ok() && m.ok() && *f.RPS > 0 {
			r := *m.RPS / *f.RPS
			j.measured = fmt.Sprintf("%.1f× (%s / %s req/s)", r, figure(*m.RPS), figure(*f.RPS))
			s.judgeRedis(&j, t.name, m, r >= 40, s.noisy("seed", s.runKey(s.seed), t.name))
		}
		js = append(js, j)
	}
	// ≥ 40 % of the bare handler's GET /health
	for _, t := range routes {
		j := judgement{what: t.what + " from Redis vs bare baseline's GET /health", goal: "≥ 40 %"}
		b, m := s.baseline.get("health"), s.myapiRedis.get(t.name)
		if b.ok() && m.ok() && *b.RPS > 0 {
			r := *m.RPS / *b.RPS
			j.measured = fmt.Sprintf("%.0f %% (%s / %s req/s)", 100*r, figure(*m.RPS), figure(*b.RPS))
			s.judgeRedis(&j, t.name, m, r >= 0.40, s.noisy("baseline", s.runKey(s.baseline), "health"))
		}
		js = append(js, j)
	}
	// p99 ≤ 10 ms at 64 connections
	for _, t := range routes {
		j := judgement{what: "p99 of " + t.what + " from Redis at 64 connections", goal: "≤ 10 ms"}
		m := s.myapiRedis.get(t.name)
		if m.ok() {
			j.measured = fmt.Sprintf("%s ms (p50 %s, p90 %s, max %s; %d connections, %s req/s)",
				figure(m.Latency.P99), figure(m.Latency.P50), figure(m.Latency.P90), figure(m.Latency.Max), m.Connections, figure(*m.RPS))
			s.judgeRedis(&j, t.name, m, m.Latency.P99 <= 10, "")
			if m.Connections != 64 {
				j.met = nil
				j.note = joinNotes(fmt.Sprintf("measured at %d connections, the goal is at 64 (CONNS)", m.Connections), j.note)
			}
		}
		js = append(js, j)
	}
	return js
}

// judgeRedis sets the verdict of a Redis-pass row: met when the goal holds
// and myapi's run was clean; not judged when the runs were not Redis hits.
func (s *sitting) judgeRedis(j *judgement, scenario string, m *Scenario, goal bool, otherNoise string) {
	c, why := clean(m)
	j.met = ptr(goal && c)
	prob, void := s.redisProblem(scenario)
	if void {
		j.met = nil
	}
	j.note = joinNotes(why, prob, s.noisy("myapi", s.runKey(s.myapiRedis), scenario), otherNoise)
}

// redisParagraph describes the Redis pass under the scenario list.
func (s *sitting) redisParagraph() string {
	if s.myapiRedis == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("The \"cache and rate limits in Redis\" rows are another myapi process with `REDIS_URL`")
	e := s.redisExtra
	if e != nil && e.RedisURL != "" {
		fmt.Fprintf(&b, " (`%s`", e.RedisURL)
		if e.RedisServer != "" {
			fmt.Fprintf(&b, ", a private redis-server %s without persistence", strings.TrimPrefix(e.RedisServer, "v="))
		}
		b.WriteString(")")
	}
	b.WriteString(":\nGET /items/{id} and GET /items are answered from Redis once cached, and the rate limiter counts\n")
	b.WriteString("each of those requests there too. GET /health is never rate limited, so its row is a control (Redis\n")
	b.WriteString("connected but not on its path).")
	if e == nil {
		b.WriteString(" No X-Cache check was recorded for this pass.\n")
		return b.String()
	}
	if len(e.XCacheCheck) > 0 {
		b.WriteString("\nBefore its runs, the same GET twice answered:")
		for i, c := range e.XCacheCheck {
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " `%s` %s", c.Path, c.answers())
		}
		b.WriteString(".")
	}
	if len(e.CacheLookups) > 0 {
		fmt.Fprintf(&b, "\nOver the pass myapi counted these cache lookups: %s (bypass: Redis unavailable)", countMapF(e.CacheLookups))
		if n, ok := e.RedisStats["total_commands_processed"]; ok {
			fmt.Fprintf(&b, ";\nRedis processed %.0f commands (keyspace hits %.0f, misses %.0f)", n,
				e.RedisStats["keyspace_hits"], e.RedisStats["keyspace_misses"])
		}
		b.WriteString(".")
	}
	if e.PeakRSSKB > 0 {
		fmt.Fprintf(&b, " Peak RSS of that myapi process: %.1f MiB.", float64(e.PeakRSSKB)/1024)
	}
	b.WriteString("\n")
	return b.String()
}

// countMapF is "hit 10, miss 2, bypass 0, error 0": the cache's results
// in that order, then any other key alphabetically.
func countMapF(m map[string]float64) string {
	rank := map[string]int{"hit": 1, "miss": 2, "bypass": 3, "error": 4}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		if ri == 0 {
			ri = 99
		}
		if rj == 0 {
			rj = 99
		}
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.0f", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------- A/B: metrics + logging

// ObsArm is one of the two myapi processes of the A/B pass.
type ObsArm struct {
	Arm           string `json:"arm"`
	Port          int    `json:"port"`
	Settings      string `json:"settings"`
	MetricsStatus int    `json:"metrics_status"` // GET /metrics before the runs
	PID           int    `json:"pid"`
	LogLines      int64  `json:"log_lines"`
	LogBytes      int64  `json:"log_bytes"`
	PeakRSSKB     int64  `json:"peak_rss_kb"`
}

// ObsRun is one recorded run of the A/B pass: a bench.sh file of its own.
type ObsRun struct {
	Arm   string `json:"arm"` // "on" or "off"
	Round int    `json:"round"`
	File  string `json:"file"`
	run   *Run
}

// key is the run's name in windows.tsv (the CPU accounting).
func (r *ObsRun) key() string { return strings.TrimSuffix(filepath.Base(r.File), ".json") }

// ObsAB is results/myapi-obs-ab.json, the index of the A/B pass.
type ObsAB struct {
	Rounds   int               `json:"rounds"`
	Scenario string            `json:"scenario"`
	Arms     map[string]ObsArm `json:"arms"`
	Runs     []ObsRun          `json:"runs"`
}

func (ab *ObsAB) scenario() string {
	if ab.Scenario == "" {
		return "health"
	}
	return ab.Scenario
}

// result is the run's wrk result, nil if the run left none.
func (ab *ObsAB) result(r *ObsRun) *Scenario {
	x := r.run.get(ab.scenario())
	if !x.ok() {
		return nil
	}
	return x
}

// obsSummary is the A/B's arithmetic: cost = 1 − mean ON req/s ÷ mean OFF
// req/s, over the runs that have a result.
type obsSummary struct {
	onMean, offMean, cost float64
	onP99, offP99         float64 // mean p99 of each arm
	nOn, nOff             int
	roundCosts            []roundCost // rounds with both runs
	unclean               []string    // runs with non-2xx or timeouts
}

type roundCost struct {
	round int
	cost  float64
}

func (ab *ObsAB) summary() (obsSummary, bool) {
	var sm obsSummary
	if ab == nil {
		return sm, false
	}
	var onSum, offSum float64
	byRound := map[int]map[string]float64{}
	for i := range ab.Runs {
		r := &ab.Runs[i]
		x := ab.result(r)
		if x == nil {
			continue
		}
		if c, why := clean(x); !c {
			sm.unclean = append(sm.unclean, fmt.Sprintf("%s round %d: %s", strings.ToUpper(r.Arm), r.Round, why))
		}
		switch r.Arm {
		case "on":
			onSum += *x.RPS
			sm.onP99 += x.Latency.P99
			sm.nOn++
		case "off":
			offSum += *x.RPS
			sm.offP99 += x.Latency.P99
			sm.nOff++
		default:
			continue
		}
		if byRound[r.Round] == nil {
			byRound[r.Round] = map[string]float64{}
		}
		byRound[r.Round][r.Arm] = *x.RPS
	}
	if sm.nOn == 0 || sm.nOff == 0 || offSum <= 0 {
		return sm, false
	}
	sm.onMean, sm.offMean = onSum/float64(sm.nOn), offSum/float64(sm.nOff)
	sm.onP99, sm.offP99 = sm.onP99/float64(sm.nOn), sm.offP99/float64(sm.nOff)
	sm.cost = 1 - sm.onMean/sm.offMean
	rounds := make([]int, 0, len(byRound))
	for k := range byRound {
		rounds = append(rounds, k)
	}
	sort.Ints(rounds)
	for _, k := range rounds {
		on, okOn := byRound[k]["on"]
		off, okOff := byRound[k]["off"]
		if okOn && okOff && off > 0 {
			sm.roundCosts = append(sm.roundCosts, roundCost{k, 1 - on/off})
		}
	}
	return sm, true
}

// obsSwitchProblem says why the A/B did not compare what it means to: the
// OFF process still served /metrics (METRICS_ENABLED not honoured), or
// the ON process did not.
func (ab *ObsAB) obsSwitchProblem() string {
	var why []string
	if off, ok := ab.Arms["off"]; ok && off.MetricsStatus == 200 {
		why = append(why, "the OFF process still answered GET /metrics with 200: METRICS_ENABLED=false not honoured by this revision, so only the logging was off")
	}
	if on, ok := ab.Arms["on"]; ok && on.MetricsStatus != 200 {
		why = append(why, fmt.Sprintf("the ON process answered GET /metrics with %d, not 200", on.MetricsStatus))
	}
	return strings.Join(why, "; ")
}

func (s *sitting) obsTarget() judgement {
	rounds := "rounds"
	n := 0
	if s.obs != nil {
		n = s.obs.Rounds
	}
	j := judgement{goal: "≤ 15 %"}
	if n > 0 {
		if n == 1 {
			rounds = "round"
		}
		j.what = fmt.Sprintf("metrics + logging cost on GET /health (ON vs OFF, %d %s alternated)", n, rounds)
	} else {
		j.what = "metrics + logging cost on GET /health (ON vs OFF, alternated)"
	}
	sm, ok := s.obs.summary()
	if !ok {
		return j
	}
	j.measured = fmt.Sprintf("%.1f %% (1 − %s ÷ %s mean req/s, ON ÷ OFF; %d + %d runs", 100*sm.cost,
		figure(sm.onMean), figure(sm.offMean), sm.nOn, sm.nOff)
	if len(sm.roundCosts) > 0 {
		per := make([]string, len(sm.roundCosts))
		for i, rc := range sm.roundCosts {
			per[i] = fmt.Sprintf("%.1f %%", 100*rc.cost)
		}
		j.measured += "; per round " + strings.Join(per, ", ")
	}
	j.measured += fmt.Sprintf("; mean p99 %s vs %s ms)", figure(sm.onP99), figure(sm.offP99))
	j.met = ptr(sm.cost <= 0.15 && len(sm.unclean) == 0)
	var noisy []string
	for i := range s.obs.Runs {
		r := &s.obs.Runs[i]
		noisy = append(noisy, s.noisy(fmt.Sprintf("%s round %d", strings.ToUpper(r.Arm), r.Round), r.key(), s.obs.scenario()))
	}
	sw := s.obs.obsSwitchProblem()
	if sw != "" {
		j.met = nil
	}
	j.note = joinNotes(append([]string{strings.Join(sm.unclean, ", "), sw}, noisy...)...)
	return j
}

// obsSection is the A/B's section of RESULTS.md ("" without the pass).
func (s *sitting) obsSection() string {
	ab := s.obs
	if ab == nil || len(ab.Runs) == 0 {
		return ""
	}
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("## Metrics + logging on GET /health: ON vs OFF (myapi, alternated)\n\n")
	on, off := ab.Arms["on"], ab.Arms["off"]
	p("Two myapi processes ran side by side on the same database: **ON** (port %d, `%s`, its JSON access log\n", on.Port, on.Settings)
	p("to a file, as in the main run) and **OFF** (port %d, `%s`: no /metrics endpoint, no per-request\n", off.Port, off.Settings)
	p("metrics middleware, no INFO access-log line). The `%s` runs alternated between them, ON first in odd rounds\n", ab.scenario())
	p("and OFF first in even ones (ABBA), so that slow drift in the machine's noise hits both alike. Before the runs GET /metrics answered %d on ON\n", on.MetricsStatus)
	p("and %d on OFF; over the pass ON wrote %d log lines and OFF %d.\n\n", off.MetricsStatus, on.LogLines, off.LogLines)
	p("| run | conns | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | socket errors | CPU cores: server / PG / redis / wrk / other |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for i := range ab.Runs {
		r := &ab.Runs[i]
		label := fmt.Sprintf("round %d, %s", r.Round, strings.ToUpper(r.Arm))
		x := r.run.get(ab.scenario())
		switch {
		case x == nil:
			p("| %s | | – | | | | | | | |\n", label)
		case !x.ok():
			p("| %s | %d | error: %s | | | | | | | |\n", label, x.Connections, x.Error)
		default:
			p("| %s | %d | %s | %s | %s | %s | %s | %d | %d | %s |\n", label, x.Connections, figure(*x.RPS),
				figure(x.Latency.P50), figure(x.Latency.P90), figure(x.Latency.P99), figure(x.Latency.Max), x.non2xx(), x.sockErrs(),
				s.cpuCell(r.key(), ab.scenario()))
		}
	}
	if sm, ok := ab.summary(); ok {
		p("\nCost = 1 − mean ON req/s ÷ mean OFF req/s = 1 − %s ÷ %s = **%.1f %%**", figure(sm.onMean), figure(sm.offMean), 100*sm.cost)
		if len(sm.roundCosts) > 0 {
			per := make([]string, len(sm.roundCosts))
			for i, rc := range sm.roundCosts {
				per[i] = fmt.Sprintf("round %d: %.1f %%", rc.round, 100*rc.cost)
			}
			p(" (%s)", strings.Join(per, ", "))
		}
		p("; mean p99 ON %s ms, OFF %s ms.\n", figure(sm.onP99), figure(sm.offP99))
	}
	if sw := ab.obsSwitchProblem(); sw != "" {
		p("\n**Caution**: %s.\n", sw)
	}
	p("\n")
	return b.String()
}

// redisRatio is the "myapi ÷ this" cell of a Redis-pass row: how it compares
// with the seed and with the bare handler's GET /health.
func (s *sitting) redisRatio(scenario string, x *Scenario) string {
	var parts []string
	if scenario != "health" {
		if f := s.seed.get(scenario); f.ok() && *f.RPS > 0 {
			parts = append(parts, fmt.Sprintf("%.1f× the seed", *x.RPS / *f.RPS))
		}
	}
	if b := s.baseline.get("health"); b.ok() && *b.RPS > 0 {
		what := "the baseline"
		if scenario != "health" {
			what = "the baseline's /health"
		}
		parts = append(parts, fmt.Sprintf("%.0f %% of %s", 100*(*x.RPS)/(*b.RPS), what))
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, "; ") + ")"
}
