# 2026-12-06 11:02:55 by RouterOS 7.12.1
# software id = 3FKL-ZT8N
#
# model = RB4011iGS+
# serial number = D4410F7A2B9C
/interface gre
add name=gre-plain remote-address=192.0.2.99
/ip ipsec mode-config
add address=10.50.0.5 name=fixed-address
/ip ipsec profile
add dh-group=modp1024 enc-algorithm=3des hash-algorithm=md5 lifebytes=100000 \
    name=legacy prf-algorithm=sha1 proposal-check=strict
add dh-group=modp1536,ecp256 enc-algorithm=aes-192,aes-128 name=mixed
/ip ipsec peer
add address=198.51.100.20/32 name=legacy-office profile=legacy
add address=198.51.100.21/32 exchange-mode=aggressive name=aggressive-office \
    port=4500 send-initial-contact=no
add address=198.51.100.22/32 disabled=yes exchange-mode=ike2 name=old-site
add address=198.51.100.23/32 exchange-mode=ike2 name=xauth-office profile=\
    mixed
/ip ipsec proposal
add auth-algorithms=md5,sha1 enc-algorithms=3des,des name=legacy pfs-group=\
    modp768
add auth-algorithms=null enc-algorithms=aes-128-gcm,aes-192-gcm lifetime=1d2h \
    name=gcm-null pfs-group=none
add auth-algorithms=null enc-algorithms=aes-256-cbc name=cbc-null
/ip ipsec identity
add peer=legacy-office secret=legacy-secret
add generate-policy=port-override peer=aggressive-office secret=aggressive-key
add auth-method=pre-shared-key-xauth password=hunter2 peer=xauth-office \
    secret=x username=office
add peer=old-site secret=old
add peer=missing-peer secret=nobody
/ip ipsec policy
add comment="legacy office LAN" dst-address=10.20.0.0/24 peer=legacy-office \
    proposal=legacy src-address=\
    10.0.0.0/24 tunnel=yes
add dst-address=10.21.0.0/24 dst-port=443 level=unique peer=aggressive-office \
    proposal=gcm-null protocol=tcp src-address=10.0.0.5/24 tunnel=yes
add action=none dst-address=10.0.0.0/8 src-address=10.0.0.0/8
add action=discard disabled=yes dst-address=10.99.0.0/16 src-address=0.0.0.0/0
add dst-address=10.23.0.0/24 peer=xauth-office proposal=cbc-null src-address=\
    10.0.0.0/24 tunnel=yes
/ip ipsec settings
set xauth-use-radius=yes
