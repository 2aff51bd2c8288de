#!/bin/sh
# Makes the TLS tests' certificates in DIR with openssl (EC P-256, fast): a test
# CA, server certificates it signs (good, expired, another name), a self-signed one.
#
#   ca.pem                 the test CA (the only trust anchor the tests use)
#   server.pem/.key        CN server.test; SAN DNS:server.test and the tests' addresses
#   expired.pem/.key       the same names, signed by the CA, expired yesterday
#   wrong.pem/.key         signed by the CA for DNS:wrong.test only
#   self.pem/.key          the same names as server.pem, signed by itself
#   other.pem/.key         signed by the CA for DNS:other.test (an SNI certificate)
#   client.pem/.key        CN client.test, signed by the CA (a client certificate)
# The addresses: the unit tests' stack pair (10.0.0.1, 10.0.0.2; fd00::1) and the
# integration topology's stack (172.17.0.253) and kernel peer (172.17.0.2).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
cd "$1"
NAMES="DNS:server.test,IP:10.0.0.1,IP:10.0.0.2,IP:fd00:0:0:0:0:0:0:1,IP:172.17.0.253,IP:172.17.0.2"

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# signed NAME CN SAN DAYS: NAME.pem signed by the CA (DAYS < 0: already expired).
signed() {
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' \
		"$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$4" \
		-extfile "$1.ext" -out "$1.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=xdpstack test CA" -days 30 -out ca.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	2>/dev/null
signed server server.test "$NAMES" 30
signed expired server.test "$NAMES" -1
signed wrong wrong.test "DNS:wrong.test" 30
signed other other.test "DNS:other.test" 30
signed client client.test "DNS:client.test" 30
key self.key
openssl req -x509 -new -key self.key -subj "/CN=server.test" -days 30 -out self.pem \
	-addext "subjectAltName=$NAMES" 2>/dev/null
rm -f ca.srl
