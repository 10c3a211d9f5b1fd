package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sc is a clean wrk result.
func sc(name string, conns int, rps, p99 float64) Scenario {
	return Scenario{Scenario: name, Connections: conns, RPS: &rps, Latency: &Latency{P50: p99 / 4, P90: p99 / 2, P99: p99, Max: 2 * p99},
		Non2xx: new(int64)}
}

func run(scs ...Scenario) *Run { return &Run{Scenarios: scs} }

func hitChecks() []XCacheCheck {
	return []XCacheCheck{
		{Scenario: "item_get", Path: "/items/7", Status: []int{200, 200}, XCache: []string{"MISS", "HIT"}, Hit: true},
		{Scenario: "items_list", Path: "/items?skip=0&limit=10", Status: []int{200, 200}, XCache: []string{"MISS", "HIT"}, Hit: true},
	}
}

func findRow(t *testing.T, js []judgement, prefix string) judgement {
	t.Helper()
	for _, j := range js {
		if strings.HasPrefix(j.what, prefix) {
			return j
		}
	}
	t.Fatalf("no row %q in %+v", prefix, js)
	return judgement{}
}

func TestRedisTargets(t *testing.T) {
	seed := run(sc("item_get", 64, 400, 200), sc("items_list", 64, 300, 250))
	base := run(sc("health", 64, 40000, 8))
	redisRun := func(conns int, itemRPS, p99 float64) *Run {
		return run(sc("health", conns, 15000, 9), sc("item_get", conns, itemRPS, p99), sc("items_list", conns, 16000, 9))
	}
	miss := hitChecks()
	miss[0].XCache[1], miss[0].Hit = "MISS", false
	bad := sc("item_get", 64, 20000, 5)
	n := int64(12)
	bad.Non2xx = &n
	tests := []struct {
		name    string
		redis   *Run
		extra   *RedisExtra
		row     string
		verdict string
		inMeas  string
		inNote  string
	}{
		{"seed ratio met", redisRun(64, 20000, 5), &RedisExtra{XCacheCheck: hitChecks()}, "GET /items/{id} from Redis vs FastAPI seed", "**met**", "50.0×", ""},
		{"seed ratio not met", redisRun(64, 12000, 5), &RedisExtra{XCacheCheck: hitChecks()}, "GET /items/{id} from Redis vs FastAPI seed", "**not met**", "30.0×", ""},
		{"baseline ratio met", redisRun(64, 20000, 5), &RedisExtra{XCacheCheck: hitChecks()}, "GET /items/{id} from Redis vs bare baseline", "**met**", "50 %", ""},
		{"list baseline ratio", redisRun(64, 20000, 5), &RedisExtra{XCacheCheck: hitChecks()}, "GET /items?skip=0&limit=10 from Redis vs bare baseline", "**met**", "40 %", ""},
		{"p99 met", redisRun(64, 20000, 5), &RedisExtra{XCacheCheck: hitChecks()}, "p99 of GET /items/{id}", "**met**", "5.00 ms", ""},
		{"p99 not met", redisRun(64, 20000, 12), &RedisExtra{XCacheCheck: hitChecks()}, "p99 of GET /items/{id}", "**not met**", "12.0 ms", ""},
		{"p99 at other conns", redisRun(32, 20000, 5), &RedisExtra{XCacheCheck: hitChecks()}, "p99 of GET /items/{id}", "not judged", "32 connections", "the goal is at 64"},
		{"x-cache miss", redisRun(64, 20000, 5), &RedisExtra{XCacheCheck: miss}, "GET /items/{id} from Redis vs FastAPI seed", "not judged", "50.0×", "not a Redis hit"},
		{"x-cache miss leaves the list alone", redisRun(64, 20000, 5), &RedisExtra{XCacheCheck: miss}, "GET /items?skip=0&limit=10 from Redis vs FastAPI seed", "**met**", "53.3×", ""},
		{"bypassed lookups", redisRun(64, 20000, 5), &RedisExtra{XCacheCheck: hitChecks(), CacheLookups: map[string]float64{"hit": 1000, "bypass": 50}},
			"GET /items/{id} from Redis vs FastAPI seed", "not judged", "50.0×", "50 of 1050 cache lookups bypassed"},
		{"memory cache store", redisRun(64, 20000, 5), &RedisExtra{CacheStore: "memory", XCacheCheck: hitChecks()},
			"GET /items/{id} from Redis vs FastAPI seed", "not judged", "50.0×", `cache store as "memory"`},
		{"redis cache store", redisRun(64, 20000, 5), &RedisExtra{CacheStore: "redis", XCacheCheck: hitChecks()},
			"GET /items/{id} from Redis vs FastAPI seed", "**met**", "50.0×", ""},
		{"no check recorded", redisRun(64, 20000, 5), nil, "GET /items/{id} from Redis vs FastAPI seed", "**met**", "50.0×", "no X-Cache check recorded"},
		{"non-2xx", run(sc("health", 64, 15000, 9), bad), &RedisExtra{XCacheCheck: hitChecks()}, "GET /items/{id} from Redis vs FastAPI seed", "**not met**", "50.0×", "12 non-2xx"},
		{"no redis pass", nil, nil, "GET /items/{id} from Redis vs FastAPI seed", "not measured", "", ""},
		{"no redis pass p99", nil, nil, "p99 of GET /items?skip=0&limit=10", "not measured", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sitting{seed: seed, baseline: base, myapiRedis: tt.redis, redisExtra: tt.extra,
				seedFile: "fastapi-seed-1w.json", baselineFile: "go-baseline.json", redisFile: "myapi-pg-redis.json"}
			j := findRow(t, s.redisTargets(), tt.row)
			if got := verdict(j); got != tt.verdict {
				t.Errorf("verdict %q, want %q (%+v)", got, tt.verdict, j)
			}
			if !strings.Contains(j.measured, tt.inMeas) {
				t.Errorf("measured %q, want it to contain %q", j.measured, tt.inMeas)
			}
			if tt.inNote != "" && !strings.Contains(j.note, tt.inNote) {
				t.Errorf("note %q, want it to contain %q", j.note, tt.inNote)
			}
		})
	}
}

func TestObsTarget(t *testing.T) {
	abRun := func(arm string, round int, rps float64) ObsRun {
		return ObsRun{Arm: arm, Round: round, File: "myapi-obs-" + arm + ".json", run: run(sc("health", 64, rps, 8))}
	}
	arms := map[string]ObsArm{"on": {MetricsStatus: 200}, "off": {MetricsStatus: 404}}
	dirty := abRun("off", 2, 20000)
	n := int64(3)
	dirty.run.Scenarios[0].Non2xx = &n
	tests := []struct {
		name     string
		ab       *ObsAB
		verdict  string
		cost     string // in measured
		perRound string
		inNote   string
		inWhat   string
	}{
		{"met", &ObsAB{Rounds: 2, Arms: arms, Runs: []ObsRun{abRun("on", 1, 18000), abRun("off", 1, 20000), abRun("on", 2, 17000), abRun("off", 2, 20000)}},
			"**met**", "12.5 %", "per round 10.0 %, 15.0 %", "", "2 rounds alternated"},
		{"not met", &ObsAB{Rounds: 1, Arms: arms, Runs: []ObsRun{abRun("on", 1, 15000), abRun("off", 1, 20000)}},
			"**not met**", "25.0 %", "per round 25.0 %", "", "1 round alternated"},
		{"ON faster", &ObsAB{Rounds: 1, Arms: arms, Runs: []ObsRun{abRun("on", 1, 21000), abRun("off", 1, 20000)}},
			"**met**", "-5.0 %", "", "", ""},
		{"unclean run", &ObsAB{Rounds: 2, Arms: arms, Runs: []ObsRun{abRun("on", 1, 19000), abRun("off", 1, 20000), abRun("on", 2, 19000), dirty}},
			"**not met**", "5.0 %", "", "OFF round 2: 3 non-2xx", ""},
		{"missing run", &ObsAB{Rounds: 2, Arms: arms, Runs: []ObsRun{abRun("on", 1, 18000), abRun("off", 1, 20000), abRun("on", 2, 18000), {Arm: "off", Round: 2, File: "x.json"}}},
			"**met**", "10.0 %", "per round 10.0 %;", "", ""},
		{"metrics not switched off", &ObsAB{Rounds: 1, Arms: map[string]ObsArm{"on": {MetricsStatus: 200}, "off": {MetricsStatus: 200}},
			Runs: []ObsRun{abRun("on", 1, 19000), abRun("off", 1, 20000)}}, "not judged", "5.0 %", "", "METRICS_ENABLED=false not honoured", ""},
		{"only ON runs", &ObsAB{Rounds: 1, Arms: arms, Runs: []ObsRun{abRun("on", 1, 19000)}}, "not measured", "", "", "", ""},
		{"no A/B pass", nil, "not measured", "", "", "", "(ON vs OFF, alternated)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sitting{obs: tt.ab}
			j := s.obsTarget()
			if got := verdict(j); got != tt.verdict {
				t.Errorf("verdict %q, want %q (%+v)", got, tt.verdict, j)
			}
			if tt.cost != "" && !strings.HasPrefix(j.measured, tt.cost) {
				t.Errorf("measured %q, want it to start with %q", j.measured, tt.cost)
			}
			if !strings.Contains(j.measured, tt.perRound) {
				t.Errorf("measured %q, want it to contain %q", j.measured, tt.perRound)
			}
			if tt.inNote != "" && !strings.Contains(j.note, tt.inNote) {
				t.Errorf("note %q, want it to contain %q", j.note, tt.inNote)
			}
			if !strings.Contains(j.what, tt.inWhat) {
				t.Errorf("what %q, want it to contain %q", j.what, tt.inWhat)
			}
		})
	}
}

func TestReadSamples(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		n         int
		redis     float64
		wantOther float64 // cores, over the window below
	}{
		{"six columns (before the redis column)", "# epoch_ms busy steal postgres server wrk (jiffies, CLK_TCK=100)\n" +
			"1000 0 0 0 0 0\n2000 100 0 20 30 10\n3000 200 0 40 60 20\n", 3, 0, 0.4},
		{"seven columns", "# epoch_ms busy steal postgres server wrk redis (jiffies, CLK_TCK=100)\n" +
			"1000 0 0 0 0 0 0\n2000 100 0 20 30 10 20\n3000 200 0 40 60 20 40\n", 3, 40, 0.2},
		{"junk lines skipped", "1000 0 0\nx y z a b c\n1000 0 0 0 0 0 0\n", 1, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "cpu-samples.txt"), []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, _, err := readSamples(filepath.Join(dir, "cpu-samples.txt"))
			if err != nil || len(got) != tt.n {
				t.Fatalf("readSamples: %d samples, %v; want %d", len(got), err, tt.n)
			}
			if last := got[len(got)-1]; last.redis != tt.redis {
				t.Errorf("redis %v, want %v", last.redis, tt.redis)
			}
			if tt.wantOther < 0 {
				return
			}
			// a window from second 0 (samples from 1000 ms) over 3 s
			if err := os.WriteFile(filepath.Join(dir, "windows.tsv"), []byte("r\tsc\t0\t3\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			acc, err := loadCPU(dir)
			if err != nil {
				t.Fatal(err)
			}
			u, ok := acc.get("r", "sc")
			if !ok {
				t.Fatal("no CPU use for r/sc")
			}
			if d := u.Other - tt.wantOther; d > 1e-9 || d < -1e-9 {
				t.Errorf("other %.3f cores, want %.3f (%+v)", u.Other, tt.wantOther, u)
			}
		})
	}
}

// A sitting without the new passes (older results, TARGETS subsets,
// REDIS_PASS=0 OBS_AB_ROUNDS=0) still reports, with the new rows "not
// measured" and no A/B section.
func TestMarkdownWithoutNewPasses(t *testing.T) {
	s := &sitting{myapi: run(sc("health", 64, 15000, 9), sc("item_get", 64, 14000, 9)), myapiFile: "myapi-pg.json"}
	md := s.markdown()
	for _, want := range []string{
		"| GET /items/{id} from Redis vs FastAPI seed | – | ≥ 40× | not measured |",
		"| p99 of GET /items?skip=0&limit=10 from Redis at 64 connections | – | ≤ 10 ms | not measured |",
		"| metrics + logging cost on GET /health (ON vs OFF, alternated) | – | ≤ 15 % | not measured |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	for _, unwanted := range []string{"ON vs OFF (myapi, alternated)", "cache and rate limits in Redis |"} {
		if strings.Contains(md, unwanted) {
			t.Errorf("markdown has %q without the pass", unwanted)
		}
	}
}

func TestLoadNewPasses(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"myapi-pg.json":          `{"target":"m","scenarios":[{"scenario":"health","connections":64,"rps":15000,"latency_ms":{"p99":9},"non2xx":0}]}`,
		"myapi-pg-redis.json":    `{"target":"r","scenarios":[{"scenario":"item_get","connections":64,"rps":16000,"latency_ms":{"p99":7},"non2xx":0}]}`,
		"myapi-redis-extra.json": `{"redis_url":"redis://127.0.0.1:16379/0","redis_server":"v=7.0.15","xcache_check":[{"scenario":"item_get","path":"/items/3","status":[200,200],"x_cache":["MISS","HIT"],"hit":true}],"cache_lookups":{"bypass":0,"hit":99,"miss":1}}`,
		"myapi-obs-ab.json":      `{"rounds":1,"scenario":"health","arms":{"on":{"port":1,"settings":"A","metrics_status":200},"off":{"port":2,"settings":"B","metrics_status":404}},"runs":[{"arm":"on","round":1,"file":"myapi-obs-on-1.json"},{"arm":"off","round":1,"file":"../myapi-obs-off-1.json"}]}`,
		"myapi-obs-on-1.json":    `{"scenarios":[{"scenario":"health","connections":64,"rps":18000,"latency_ms":{"p99":8},"non2xx":0}]}`,
		"myapi-obs-off-1.json":   `{"scenarios":[{"scenario":"health","connections":64,"rps":20000,"latency_ms":{"p99":7},"non2xx":0}]}`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.myapiRedis.get("item_get") == nil || s.redisExtra == nil || s.obs == nil {
		t.Fatalf("not loaded: redis %v, extra %v, obs %v", s.myapiRedis, s.redisExtra, s.obs)
	}
	for _, r := range s.obs.Runs {
		if r.run == nil {
			t.Errorf("A/B run %s not loaded (file names are taken relative to the results directory)", r.File)
		}
	}
	md := s.markdown()
	for _, want := range []string{
		"| myapi, cache and rate limits in Redis | 64 | 16000 |",
		"`/items/3` 200 MISS, then 200 HIT",
		"hit 99, miss 1, bypass 0",
		"| round 1, OFF | 64 | 20000 |",
		"= 1 − 18000 ÷ 20000 = **10.0 %**",
		"| metrics + logging cost on GET /health (ON vs OFF, 1 round alternated) | 10.0 % (",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
