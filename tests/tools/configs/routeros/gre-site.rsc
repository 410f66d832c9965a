# 2026-12-06 09:14:03 by RouterOS 7.15.3
# software id = R2DQ-C3PO
#
# model = CCR2116-12G-4S+
# serial number = HGB09A1QZ7P
/interface gre
add allow-fast-path=no comment="to site B, keyed by ipsec-secret" \
    ipsec-secret="Xb8t2LmQ9vZr" local-address=198.51.100.1 mtu=1400 name=gre-b \
    remote-address=203.0.113.2
add allow-fast-path=no keepalive=10s,10 local-address=198.51.100.1 name=gre-c \
    remote-address=192.0.2.3
/ip ipsec profile
set [ find default=yes ] dh-group=ecp256,modp2048 enc-algorithm=aes-256,aes-128 \
    hash-algorithm=sha256 lifetime=8h
/ip ipsec peer
add address=192.0.2.3/32 exchange-mode=ike2 local-address=198.51.100.1 name=\
    site-c
/ip ipsec proposal
set [ find default=yes ] auth-algorithms=sha256 enc-algorithms=\
    aes-256-gcm,aes-128-gcm,aes-256-cbc lifetime=1h pfs-group=ecp256
/ip ipsec identity
add my-id=fqdn:site-a.example.net peer=site-c remote-id=\
    fqdn:site-c.example.net secret="k3y with \"quotes\", a \\ and a \$"
/ip ipsec policy
add dst-address=192.0.2.3/32 peer=site-c protocol=gre src-address=\
    198.51.100.1/32
/ip address
add address=198.51.100.1/29 interface=ether1 network=198.51.100.0
add address=192.168.10.1/24 interface=ether2 network=192.168.10.0
add address=172.16.1.1/30 interface=gre-b network=172.16.1.0
add address=172.16.2.1/30 interface=gre-c network=172.16.2.0
/ip route
add disabled=no dst-address=0.0.0.0/0 gateway=198.51.100.6
add distance=5 dst-address=10.2.0.0/24 gateway=gre-b
add distance=5 dst-address=10.3.0.0/24 gateway=gre-c
add distance=5 dst-address=10.3.1.0/24 gateway=gre-c
/routing ospf instance
add disabled=no name=backbone router-id=10.255.0.1
/system identity
set name=site-a
