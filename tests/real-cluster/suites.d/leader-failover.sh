# High availability: operator processes hand the leader Lease over on SIGTERM (< 2 s) and on
# kill -9 (after the lease duration); the standby is Ready. Prints the measured times.
suite leader-failover --test leader_failover -- --nocapture
