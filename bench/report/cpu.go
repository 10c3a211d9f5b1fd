package main

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cpuSample is one line of run.sh's results/cpu-samples.txt: cumulative
// jiffies of the whole machine and of the processes of interest.
type cpuSample struct {
	ms                                        float64 // epoch milliseconds
	busy, steal, postgres, server, wrk, redis float64
}

// CPUUse is how many cores each party used, on average, during one recorded
// wrk run: the server under test, PostgreSQL, Redis (every redis-server
// process), wrk, and everything else on the machine ("other": other users'
// builds and tests, the scripts, the kernel's softirq work that is not
// charged to a process), plus the hypervisor's steal.
type CPUUse struct {
	Server, Postgres, Redis, Wrk, Other, Steal float64
	Seconds                                    float64
}

// cpuAccounting maps "run/scenario" (run = the JSON file's base name, e.g.
// myapi-pg) to its CPUUse.
type cpuAccounting map[string]CPUUse

func (c cpuAccounting) get(run, scenario string) (CPUUse, bool) {
	u, ok := c[run+"/"+scenario]
	return u, ok
}

func loadCPU(dir string) (cpuAccounting, error) {
	samples, tck, err := readSamples(filepath.Join(dir, "cpu-samples.txt"))
	if err != nil || len(samples) < 2 {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "windows.tsv"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	acc := cpuAccounting{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 4 {
			continue
		}
		start, err1 := strconv.ParseFloat(parts[2], 64)
		dur, err2 := strconv.ParseFloat(parts[3], 64)
		if err1 != nil || err2 != nil || dur <= 0 {
			continue
		}
		// The start is logged with one-second resolution: skip the first
		// second, keep clear of the last one.
		from, to := (start+1)*1000, (start+dur)*1000
		var a, b *cpuSample
		for i := range samples {
			s := &samples[i]
			if a == nil && s.ms >= from {
				a = s
			}
			if s.ms <= to {
				b = s
			}
		}
		if a == nil || b == nil || b.ms-a.ms < 1500 {
			continue
		}
		secs := (b.ms - a.ms) / 1000
		per := func(x, y float64) float64 { return max(y-x, 0) / tck / secs } // a process gone by b reads as 0
		u := CPUUse{
			Server:   per(a.server, b.server),
			Postgres: per(a.postgres, b.postgres),
			Redis:    per(a.redis, b.redis),
			Wrk:      per(a.wrk, b.wrk),
			Steal:    per(a.steal, b.steal),
			Seconds:  secs,
		}
		u.Other = per(a.busy, b.busy) - u.Server - u.Postgres - u.Redis - u.Wrk
		if u.Other < 0 {
			u.Other = 0 // sampling skew between /proc/stat and the processes
		}
		acc[parts[0]+"/"+parts[1]] = u
	}
	return acc, sc.Err()
}

func readSamples(path string) ([]cpuSample, float64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	tck := 100.0
	var out []cpuSample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			if _, v, ok := strings.Cut(line, "CLK_TCK="); ok {
				end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
				if end < 0 {
					end = len(v)
				}
				if n, err := strconv.ParseFloat(v[:end], 64); err == nil && n > 0 {
					tck = n
				}
			}
			continue
		}
		// epoch_ms busy steal postgres server wrk [redis]: samples of
		// sittings before the redis column have six fields.
		fl := strings.Fields(line)
		if len(fl) != 6 && len(fl) != 7 {
			continue
		}
		var v [7]float64
		ok := true
		for i, s := range fl {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				ok = false
				break
			}
			v[i] = x
		}
		if ok {
			out = append(out, cpuSample{ms: v[0], busy: v[1], steal: v[2], postgres: v[3], server: v[4], wrk: v[5], redis: v[6]})
		}
	}
	return out, tck, sc.Err()
}
