# 2026-12-05 18:52:40 by RouterOS 7.16.2
# software id = 9XQA-2KLM
#
# model = RB5009UG+S+
# serial number = HE20812KQ3X
/interface bridge
add admin-mac=48:A9:8A:11:22:33 auto-mac=no comment=defconf name=bridge-lan
/ip ipsec mode-config
set [ find default=yes ] src-address-list=lan-networks
/ip ipsec policy group
add name=to-hub
/ip ipsec profile
add dh-group=ecp256 dpd-interval=10s dpd-maximum-failures=3 enc-algorithm=\
    aes-256 hash-algorithm=sha256 lifetime=8h name=hub-ike2
/ip ipsec peer
add address=203.0.113.1/32 comment="the hub, CCR2004 in the data centre" \
    exchange-mode=ike2 name=hub profile=hub-ike2
/ip ipsec proposal
add auth-algorithms=null enc-algorithms=aes-256-gcm lifetime=1h name=hub-esp \
    pfs-group=ecp256
/ip ipsec identity
add auth-method=digital-signature certificate=branch-7.crt_0 generate-policy=\
    port-strict mode-config=request-only my-id=fqdn:branch-7.example.net peer=\
    hub policy-template-group=to-hub remote-certificate=none remote-id=\
    fqdn:hub.example.net
/ip ipsec policy
add dst-address=10.0.0.0/8 group=to-hub proposal=hub-esp src-address=\
    0.0.0.0/0 template=yes
/ip address
add address=192.168.88.1/24 comment=defconf interface=bridge-lan network=\
    192.168.88.0
/ip firewall address-list
add address=192.168.88.0/24 list=lan-networks
/ip firewall filter
add action=accept chain=input comment="defconf: accept established,related" \
    connection-state=established,related
/system identity
set name=branch-7
