package clientip

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzIP fuzzes the client-IP resolver with any peer address and
// forwarding headers. A peer that is not a trusted proxy is always the
// client, whatever the headers say; the answer never carries a zone or an
// IPv4-mapped form; and an answer other than the peer comes from the
// headers: an untrusted X-Forwarded-For entry, or X-Real-IP.
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
		f.Add(s[0], s[1], s[2])
	}
	trusted, err := ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.1", "::1", "fd00::/8"})
	if err != nil {
		f.Fatal(err)
	}
	r := New(trusted)
	f.Fuzz(func(t *testing.T, remoteAddr, xff, realIP string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = remoteAddr
		req.Header["X-Forwarded-For"] = strings.Split(xff, "\n")
		req.Header["X-Real-Ip"] = []string{realIP}
		got := r.IP(req)
		peer := parseHostPort(remoteAddr)
		if got.Zone() != "" || got.Is4In6() {
			t.Errorf("IP = %v: a zone or a mapped address", got)
		}
		if !r.Trusted(peer) {
			if got != peer {
				t.Errorf("untrusted peer %q: IP = %v, want the peer %v", remoteAddr, got, peer)
			}
			return
		}
		if got == peer {
			return
		}
		if got == parseHostPort(strings.TrimSpace(realIP)) {
			return
		}
		if r.Trusted(got) || !inXFF(got, xff) {
			t.Errorf("peer %q, X-Forwarded-For %q, X-Real-IP %q: IP = %v, from nowhere", remoteAddr, xff, realIP, got)
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
