// Package clientip decides which address a request comes from, trusting
// one forwarding header (X-Forwarded-For or X-Real-IP, CLIENT_IP_HEADER) and
// only when the socket peer is one of the configured proxies
// (TRUSTED_PROXIES). A client that connects directly cannot pick its own
// address by sending a header, nor can one behind a proxy by sending the
// header that proxy does not write.
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

// The forwarding headers a Resolver can read the client address from.
const (
	// XForwardedFor is the list every proxy appends its peer to (nginx's
	// $proxy_add_x_forwarded_for, HAProxy, cloud load balancers); it is
	// read from the right, so entries a client wrote are never used.
	XForwardedFor = "X-Forwarded-For"
	// XRealIP is one address, written by a proxy that replaces whatever
	// the client sent (nginx's proxy_set_header X-Real-IP $remote_addr).
	XRealIP = "X-Real-IP"
)

// ParseHeader checks a CLIENT_IP_HEADER value and returns the header's
// canonical spelling; "" means X-Forwarded-For.
func ParseHeader(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "x-forwarded-for":
		return XForwardedFor, nil
	case "x-real-ip":
		return XRealIP, nil
	}
	return "", fmt.Errorf("%q is not X-Forwarded-For or X-Real-IP", s)
}

// Resolver finds the client address of a request. The zero value and a nil
// *Resolver trust nobody: the client is always the socket peer.
type Resolver struct {
	trusted []netip.Prefix
	realIP  bool // read X-Real-IP instead of X-Forwarded-For
}

// New returns a Resolver that believes the forwarding header named header
// (XForwardedFor or XRealIP; "" means XForwardedFor) only from peers in
// trusted. The other header is never read: a proxy that writes one usually
// passes the other through from the client untouched.
func New(trusted []netip.Prefix, header string) *Resolver {
	return &Resolver{trusted: append([]netip.Prefix(nil), trusted...), realIP: header == XRealIP}
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
//   - for a trusted peer reading X-Forwarded-For, the list is walked from the
//     right (the entries our own proxies appended) skipping trusted
//     addresses, and the first untrusted address is the client. Entries to
//     its left were written by the client and are never read;
//   - for a trusted peer reading X-Real-IP, the address it holds;
//   - the peer itself when the header gives no answer (absent, empty, only
//     trusted addresses, or a malformed entry reached first).
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
	if r.realIP {
		if a := parseHostPort(strings.TrimSpace(req.Header.Get(XRealIP))); a.IsValid() {
			return a
		}
		return peer
	}
	if a, ok := r.fromXFF(req.Header.Values(XForwardedFor)); ok {
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
