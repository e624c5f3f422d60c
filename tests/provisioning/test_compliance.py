"""How the archive step compares a router's running config with the rendered one: the
platform's own order, defaults and stamps are no difference; what the router lacks is named."""

from __future__ import annotations

from turnup.provisioning.drivers.iosxe import compliance, running_config_body
from turnup.provisioning.drivers.junos import compare_additions

RENDERED = """\
hostname er1
ip domain name site.example
username turnup privilege 15 secret 9 $9$abc$def
snmp-server user nms NMS v3 auth sha-2 256 authkey priv aes 128 privkey
interface GigabitEthernet0
 description management
 ip address 192.0.2.2 255.255.255.0
 no shutdown
interface Loopback0
 ip address 10.0.0.1 255.255.255.255
router ospf 1
 router-id 10.0.0.1
banner motd ^
Authorised access only.
^
"""

SHOWN = """\
Building configuration...

Current configuration : 912 bytes
!
! Last configuration change at 10:11:12 UTC Sun Nov 29 2026 by turnup
! NVRAM config last updated at 10:11:15 UTC Sun Nov 29 2026 by turnup
!
version 17.9
hostname er1
!
boot-start-marker
boot-end-marker
!
username turnup privilege 15 secret 9 $9$xyz$other
ip domain name site.example
!
interface Loopback0
 ip address 10.0.0.1 255.255.255.255
!
interface GigabitEthernet0
 description management
 ip address 192.0.2.2 255.255.255.0
 negotiation auto
!
router ospf 1
 router-id 10.0.0.1
!
banner motd ^C
Authorised access only.
^C
line con 0
 stopbits 1
!
end
"""


def test_show_running_config_loses_what_changes_on_every_read():
    body = running_config_body(SHOWN)
    assert body.startswith("!\nversion 17.9\nhostname er1\n")
    assert "Building configuration" not in body and "Current configuration" not in body
    assert "Last configuration change" not in body and "NVRAM config" not in body
    later = SHOWN.replace("10:11:12", "11:00:00").replace("912 bytes", "913 bytes")
    assert running_config_body(later) == body  # the same config archives as the same text


def test_ios_order_defaults_and_hashed_secrets_are_no_difference():
    held = compliance(RENDERED, running_config_body(SHOWN))
    assert held.compliant and held.missing == ()
    assert held.checked == 13  # twelve lines and one banner
    assert held.unverifiable == (
        "snmp-server user nms NMS v3 auth sha-2 256 authkey priv aes 128 privkey",
    )


def test_ios_what_the_router_lacks_is_named_with_its_modes():
    drifted = (
        SHOWN.replace(" router-id 10.0.0.1\n", "")
        .replace("hostname er1\n", "hostname Router\n")
        .replace("Authorised access only.", "Welcome")
    )
    held = compliance(RENDERED, drifted)
    assert not held.compliant
    assert held.missing == ("hostname er1", "router ospf 1 > router-id 10.0.0.1", "banner motd ^")
    shut = SHOWN.replace(" negotiation auto\n", " shutdown\n")
    assert compliance(RENDERED, shut).missing == ("interface GigabitEthernet0 > no shutdown",)


def test_junos_compare_additions_are_leaves_with_where_they_go():
    diff = """
[edit system]
+  domain-name site.example;
-  host-name Router;
+  host-name cr1;
[edit interfaces]
+   ge-0/0/0 {
+       description "to er1";
+       unit 0 {
+           family inet {
+               address 10.0.0.0/31;
+           }
+       }
+   }
[edit protocols ospf area 0.0.0.0]
     interface lo0.0 { ... }
+    interface ge-0/0/0.0;
"""
    assert compare_additions(diff) == [
        "[edit system] domain-name site.example;",
        "[edit system] host-name cr1;",
        '[edit interfaces] ge-0/0/0 description "to er1";',
        "[edit interfaces] ge-0/0/0 unit 0 family inet address 10.0.0.0/31;",
        "[edit protocols ospf area 0.0.0.0] interface ge-0/0/0.0;",
    ]
    assert compare_additions("") == []
