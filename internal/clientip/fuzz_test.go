package clientip

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzIP fuzzes the client-IP resolver, in both header modes, with any
// peer address and forwarding headers. A peer that is not a trusted proxy
// is always the client, whatever the headers say; the answer never carries
// a zone or an IPv4-mapped form; an answer other than the peer comes from
// the header the resolver reads (an untrusted X-Forwarded-For entry, or
// X-Real-IP), and the other header changes nothing.
func FuzzIP(f *testing.F) {
	for _, s := range [][3]string{
		{"203.0.113.7:4321", "", ""},
		{"10.0.0.2:80", "198.51.100.1, 10.0.0.3", ""},
		{"10.0.0.2:80", "10.0.0.9", "198.51.100.2"},
		{"[::1]:80", "2001:db8::1, ::ffff:10.0.0.1", ""},
		{"[fe80::1%eth0]:80", "[2001:db8::2]:443", "not-an-ip"},
		{"192.0.2.1:1", "1.2.3.4,,  ,5.6.7.8", "[::ffff:1.2.3.4]"},
		{"@unix", "1.1.1.1", "2.2.2.2"},
		{"10.0.0.2:80", "garbage, 10.0.0.3", "3.3.3.3"},
	} {
		f.Add(s[0], s[1], s[2], false)
		f.Add(s[0], s[1], s[2], true)
	}
	trusted, err := ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.1", "::1", "fd00::/8"})
	if err != nil {
		f.Fatal(err)
	}
	byXFF, byRealIP := New(trusted, XForwardedFor), New(trusted, XRealIP)
	f.Fuzz(func(t *testing.T, remoteAddr, xff, realIP string, readRealIP bool) {
		request := func(xff, realIP string) *http.Request {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = remoteAddr
			req.Header[XForwardedFor] = strings.Split(xff, "\n")
			req.Header["X-Real-Ip"] = []string{realIP}
			return req
		}
		r := byXFF
		if readRealIP {
			r = byRealIP
		}
		got := r.IP(request(xff, realIP))
		peer := parseHostPort(remoteAddr)
		if got.Zone() != "" || got.Is4In6() {
			t.Errorf("IP = %v: a zone or a mapped address", got)
		}
		if !r.Trusted(peer) && got != peer {
			t.Errorf("untrusted peer %q: IP = %v, want the peer %v", remoteAddr, got, peer)
		}
		if readRealIP {
			if other := r.IP(request("198.51.100.77", realIP)); other != got {
				t.Errorf("X-Forwarded-For changed the X-Real-IP answer: %v, then %v", got, other)
			}
			if got != peer && got != parseHostPort(strings.TrimSpace(realIP)) {
				t.Errorf("peer %q, X-Real-IP %q: IP = %v, from nowhere", remoteAddr, realIP, got)
			}
			return
		}
		if other := r.IP(request(xff, "198.51.100.77")); other != got {
			t.Errorf("X-Real-IP changed the X-Forwarded-For answer: %v, then %v", got, other)
		}
		if got != peer && (r.Trusted(got) || !inXFF(got, xff)) {
			t.Errorf("peer %q, X-Forwarded-For %q: IP = %v, from nowhere", remoteAddr, xff, got)
		}
	})
}

func inXFF(a netip.Addr, xff string) bool {
	for _, line := range strings.Split(xff, "\n") {
		for _, entry := range strings.Split(line, ",") {
			if parseHostPort(strings.TrimSpace(entry)) == a {
				return true
			}
		}
	}
	return false
}
