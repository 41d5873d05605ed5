# One number, one owner across namespaces, end to end on the real server (tests/e2e_ownership.rs).
suite e2e-ownership --test e2e_ownership real_cluster
