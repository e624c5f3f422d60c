"""Constants of dcim."""

RACK_U_HEIGHT_MAX = 100
# Reverse telnet: a console server answers line N on TCP port BASE + N (Cisco: 2000 + N).
REVERSE_TELNET_BASE_PORT = 2000
# Opengear-style SSH to a line: the line is part of the user name.
DEFAULT_SSH_USERNAME_FORMAT = "{username}:port{line}"
INTERFACE_MTU_MIN = 68
INTERFACE_MTU_MAX = 65536
