#!/bin/bash
# MISC_CHECK for the demo's 3306 service (misc_dynamic): asks the real server named by its first argument
# (keepalived.conf's `misc_path "check-db.sh 192.0.2.11"`, the second act) or, without one, by
# HAPS_REAL_SERVER_ADDRESS (Start-IpvsHealthCheck, the first act) for its weight and exits with weight + 2, as the seed explains:
# exit 1 = down, exit 2-255 = up with weight (status - 2). Copied into the lab's state directory
# (owned by root, not writable by others) because MISC checks refuse scripts others could change.
exec 3<>"/dev/tcp/${1:-$HAPS_REAL_SERVER_ADDRESS}/${HAPS_REAL_SERVER_PORT:-3306}" || exit 1
read -r -t 2 greeting <&3 || exit 1
echo weight >&3
read -r -t 2 weight <&3 || exit 1
[[ "$weight" =~ ^[0-9]+$ ]] && (( weight <= 253 )) || exit 1
exit $(( weight + 2 ))
