// Package clientip decides which address a request comes from, trusting
// forwarding headers (X-Forwarded-For, X-Real-IP) only when the socket peer is
// one of the configured proxies (TRUSTED_PROXIES). A client that connects
// directly cannot pick its own address by sending a header.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParsePrefixes parses a list of CIDRs ("10.0.0.0/8", "2001:db8::/32") and
// bare addresses ("192.0.2.7", "::1", taken as /32 and /128). Blank entries are
// skipped; the error names the first entry that is neither.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, raw := range list {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q is not a CIDR or an IP address", raw)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not a CIDR or an IP address", raw)
		}
		a = a.WithZone("").Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Resolver finds the client address of a request. The zero value and a nil
// *Resolver trust nobody: the client is always the socket peer.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that believes forwarding headers only from peers in
// trusted.
func New(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: append([]netip.Prefix(nil), trusted...)}
}

// Trusted reports whether a is one of the trusted proxies.
func (r *Resolver) Trusted(a netip.Addr) bool {
	if r == nil || !a.IsValid() {
		return false
	}
	a = a.WithZone("").Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// IP returns the client address of req:
//
//   - the socket peer (req.RemoteAddr), unless the peer is a trusted proxy;
//   - for a trusted peer, X-Forwarded-For is walked from the right (the
//     entries our own proxies appended) skipping trusted addresses, and the
//     first untrusted address is the client. Entries to its left were written
//     by the client and are never read;
//   - when X-Forwarded-For gives no answer (absent, empty, only trusted
//     addresses, or a malformed entry reached before an untrusted one),
//     X-Real-IP is used if it holds an address, else the peer.
//
// IPv4-mapped IPv6 addresses are returned as IPv4, zones are dropped. The
// result is the zero Addr only when RemoteAddr itself is not an address (for
// example a Unix socket); callers should treat that as one shared unknown
// client.
func (r *Resolver) IP(req *http.Request) netip.Addr {
	peer := parseHostPort(req.RemoteAddr)
	if !r.Trusted(peer) {
		return peer
	}
	if a, ok := r.fromXFF(req.Header.Values("X-Forwarded-For")); ok {
		return a
	}
	if a := parseHostPort(strings.TrimSpace(req.Header.Get("X-Real-IP"))); a.IsValid() {
		return a
	}
	return peer
}

// fromXFF walks the X-Forwarded-For values (several header lines count as
// one comma-separated list, in order) from the right.
func (r *Resolver) fromXFF(values []string) (netip.Addr, bool) {
	for i := len(values) - 1; i >= 0; i-- {
		rest := values[i]
		for {
			entry := rest
			cut := strings.LastIndexByte(rest, ',')
			if cut >= 0 {
				entry, rest = rest[cut+1:], rest[:cut]
			}
			entry = strings.TrimSpace(entry)
			if entry != "" {
				a := parseHostPort(entry)
				if !a.IsValid() {
					return netip.Addr{}, false
				}
				if !r.Trusted(a) {
					return a, true
				}
			}
			if cut < 0 {
				break
			}
		}
	}
	return netip.Addr{}, false
}

// parseHostPort accepts "ip", "ip:port", "[ipv6]" and "[ipv6]:port".
func parseHostPort(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.WithZone("").Unmap()
		}
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.WithZone("").Unmap()
		}
	}
	return netip.Addr{}
}
