package clientip

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{name: "empty", in: nil, want: []string{}},
		{name: "cidrs and bare IPs", in: []string{"10.0.0.0/8", " 192.0.2.7 ", "2001:db8::/32", "::1"},
			want: []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "::1/128"}},
		{name: "blank entries skipped", in: []string{"", "  ", "127.0.0.1"}, want: []string{"127.0.0.1/32"}},
		{name: "host bits masked", in: []string{"10.1.2.3/8"}, want: []string{"10.0.0.0/8"}},
		{name: "mapped v4 becomes v4", in: []string{"::ffff:10.0.0.0/104", "::ffff:192.0.2.1"}, want: []string{"10.0.0.0/8", "192.0.2.1/32"}},
		{name: "zone dropped", in: []string{"fe80::1%eth0"}, want: []string{"fe80::1/128"}},
		{name: "bad entry named", in: []string{"10.0.0.0/8", "nginx"}, wantErr: `"nginx"`},
		{name: "bad prefix length", in: []string{"10.0.0.0/33"}, wantErr: `"10.0.0.0/33"`},
		{name: "bad address", in: []string{"300.1.1.1"}, wantErr: `"300.1.1.1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrefixes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i].String() != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestResolverIP(t *testing.T) {
	trusted, err := ParsePrefixes([]string{"10.0.0.0/8", "fd00::/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string // CLIENT_IP_HEADER; "" is the default, X-Forwarded-For
		remote string
		xff    []string
		realIP string
		want   string
	}{
		{name: "direct client", remote: "203.0.113.5:4321", want: "203.0.113.5"},
		{name: "direct IPv6 client", remote: "[2001:db8::7]:4321", want: "2001:db8::7"},
		{name: "spoofed XFF from untrusted peer ignored", remote: "203.0.113.5:4321", xff: []string{"1.2.3.4"}, want: "203.0.113.5"},
		{name: "spoofed X-Real-IP from untrusted peer ignored", remote: "203.0.113.5:4321", realIP: "1.2.3.4", want: "203.0.113.5"},
		{name: "spoofed XFF from untrusted IPv6 peer ignored", remote: "[2001:db8::7]:1", xff: []string{"10.0.0.1, 1.2.3.4"}, want: "2001:db8::7"},
		{name: "trusted proxy: client from XFF", remote: "10.0.0.2:80", xff: []string{"198.51.100.9"}, want: "198.51.100.9"},
		{name: "trusted proxy: rightmost untrusted wins over client-written entries", remote: "10.0.0.2:80",
			xff: []string{"1.2.3.4, 5.6.7.8, 198.51.100.9"}, want: "198.51.100.9"},
		{name: "trusted hops skipped", remote: "10.0.0.2:80", xff: []string{"1.2.3.4, 198.51.100.9, 10.9.9.9, 127.0.0.1"}, want: "198.51.100.9"},
		{name: "several XFF lines are one list", remote: "10.0.0.2:80", xff: []string{"1.2.3.4", "198.51.100.9, 10.0.0.3"}, want: "198.51.100.9"},
		{name: "entries with ports and spaces", remote: "10.0.0.2:80", xff: []string{" 198.51.100.9:5555 , 10.0.0.3 "}, want: "198.51.100.9"},
		{name: "IPv6 in XFF", remote: "[fd00::1]:80", xff: []string{"2001:db8:1::5, fd00::2"}, want: "2001:db8:1::5"},
		{name: "bracketed IPv6 in XFF", remote: "[fd00::1]:80", xff: []string{"[2001:db8:1::5]:443"}, want: "2001:db8:1::5"},
		{name: "bracketed IPv6 without port", remote: "[fd00::1]:80", xff: []string{"[2001:db8:1::5]"}, want: "2001:db8:1::5"},
		{name: "mapped IPv4 peer is trusted as IPv4", remote: "[::ffff:10.0.0.2]:80", xff: []string{"198.51.100.9"}, want: "198.51.100.9"},
		{name: "mapped IPv4 in XFF unmapped", remote: "10.0.0.2:80", xff: []string{"::ffff:198.51.100.9"}, want: "198.51.100.9"},
		{name: "empty entries skipped", remote: "10.0.0.2:80", xff: []string{"198.51.100.9,, ,"}, want: "198.51.100.9"},
		{name: "garbage left of the client never read", remote: "10.0.0.2:80", xff: []string{"unknown, <script>, 198.51.100.9"}, want: "198.51.100.9"},
		{name: "malformed entry reached: peer", remote: "10.0.0.2:80", xff: []string{"1.2.3.4, bogus, 10.0.0.3"}, want: "10.0.0.2"},
		{name: "only trusted in XFF: peer", remote: "10.0.0.2:80", xff: []string{"10.1.1.1"}, want: "10.0.0.2"},
		{name: "no headers: peer", remote: "10.0.0.2:80", want: "10.0.0.2"},
		// A proxy that appends to X-Forwarded-For passes the client's own
		// X-Real-IP through: it is never read in X-Forwarded-For mode.
		{name: "XFF mode: spoofed X-Real-IP ignored", remote: "10.0.0.2:80", xff: []string{"198.51.100.9"}, realIP: "1.2.3.4", want: "198.51.100.9"},
		{name: "XFF mode: X-Real-IP alone ignored", remote: "10.0.0.2:80", realIP: "198.51.100.1", want: "10.0.0.2"},
		// A proxy that sets X-Real-IP may pass the client's
		// X-Forwarded-For through untouched: never read in X-Real-IP mode.
		{name: "X-Real-IP mode: client from X-Real-IP", header: XRealIP, remote: "10.0.0.2:80", realIP: " 198.51.100.1 ", want: "198.51.100.1"},
		{name: "X-Real-IP mode: spoofed XFF ignored", header: XRealIP, remote: "10.0.0.2:80", xff: []string{"1.2.3.4"}, realIP: "198.51.100.1", want: "198.51.100.1"},
		{name: "X-Real-IP mode: XFF alone ignored", header: XRealIP, remote: "10.0.0.2:80", xff: []string{"198.51.100.9"}, want: "10.0.0.2"},
		{name: "X-Real-IP mode: IPv6", header: XRealIP, remote: "10.0.0.2:80", realIP: "2001:db8::9", want: "2001:db8::9"},
		{name: "X-Real-IP mode: malformed: peer", header: XRealIP, remote: "10.0.0.2:80", realIP: "nope", want: "10.0.0.2"},
		{name: "X-Real-IP mode: untrusted peer ignored", header: XRealIP, remote: "203.0.113.5:4321", realIP: "1.2.3.4", want: "203.0.113.5"},
		{name: "trusted bare loopback", remote: "127.0.0.1:80", xff: []string{"198.51.100.9"}, want: "198.51.100.9"},
		{name: "loopback not in list is untrusted", remote: "127.0.0.2:80", xff: []string{"198.51.100.9"}, want: "127.0.0.2"},
		{name: "remote without port", remote: "203.0.113.5", want: "203.0.113.5"},
		{name: "IPv6 peer with zone", remote: "[fe80::1%eth0]:80", want: "fe80::1"},
		{name: "unparsable peer", remote: "@", xff: []string{"1.2.3.4"}, want: "invalid IP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New(trusted, tc.header)
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if tc.realIP != "" {
				req.Header.Set("X-Real-IP", tc.realIP)
			}
			if got := r.IP(req).String(); got != tc.want {
				t.Fatalf("IP = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNoTrustedProxies(t *testing.T) {
	for _, r := range []*Resolver{nil, New(nil, ""), New(nil, XRealIP), {}} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "10.0.0.2:80"
		req.Header.Set("X-Forwarded-For", "198.51.100.9")
		req.Header.Set("X-Real-IP", "198.51.100.9")
		if got := r.IP(req); got != netip.MustParseAddr("10.0.0.2") {
			t.Fatalf("IP = %s, want the peer", got)
		}
	}
}

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", XForwardedFor, true},
		{"X-Forwarded-For", XForwardedFor, true},
		{" x-forwarded-for ", XForwardedFor, true},
		{"X-Real-IP", XRealIP, true},
		{"x-real-ip", XRealIP, true},
		{"Forwarded", "", false},
		{"CF-Connecting-IP", "", false},
	} {
		got, err := ParseHeader(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseHeader(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
