//! Which address a request comes from, for limits and the audit log.

use std::net::IpAddr;

use ipnet::IpNet;

/// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`, a comma-separated CIDR list).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// No proxy is trusted: every client is its socket peer.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{s}` is not an IP address or CIDR range"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client: the socket peer, unless the peer is a trusted proxy; then the right-most
    /// `X-Forwarded-For` hop that is not itself trusted (hops to its left are the client's to
    /// invent). `forwarded_for` holds every X-Forwarded-For header value in order.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim);
        let mut client = peer;
        for hop in hops.collect::<Vec<_>>().into_iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip,
                Ok(ip) => return ip,
                // Garbage in the header: the last hop we could trust is all we know.
                Err(_) => return client,
            }
        }
        client
    }
}

/// The key a per-address limit counts under: the address itself, or for IPv6 its /64, since
/// one subscriber usually holds a whole /64.
pub fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            trusted.client_address(ip("203.0.113.9"), &["1.2.3.4"]),
            ip("203.0.113.9")
        );
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(ip("10.0.0.1"), &["1.2.3.4"]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        // The client forged "6.6.6.6"; the load balancer appended the real address.
        assert_eq!(
            trusted.client_address(ip("10.1.1.1"), &["6.6.6.6, 198.51.100.4, 192.0.2.7"]),
            ip("198.51.100.4")
        );
        assert_eq!(
            trusted.client_address(ip("10.1.1.1"), &["6.6.6.6", "198.51.100.4"]),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn without_a_usable_header_the_last_trusted_hop_is_used() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(trusted.client_address(ip("10.1.1.1"), &[]), ip("10.1.1.1"));
        assert_eq!(
            trusted.client_address(ip("10.1.1.1"), &["10.2.2.2"]),
            ip("10.2.2.2")
        );
        assert_eq!(
            trusted.client_address(ip("10.1.1.1"), &["junk, 10.3.3.3"]),
            ip("10.3.3.3")
        );
    }

    #[test]
    fn bad_proxy_lists_are_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/8, nonsense").is_err());
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
    }

    #[test]
    fn ipv6_clients_are_limited_per_slash_64() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }
}
