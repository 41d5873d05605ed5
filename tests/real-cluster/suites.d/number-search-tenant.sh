# NumberSearch as the tenant on the real server (tests/number_search_tenant.rs): create, read the
# candidates and delete in its namespace, 403 elsewhere and on the status; the plugin's search and
# plan -k (server-side dry run) with the tenant's kubeconfig.
suite number-search-tenant --test number_search_tenant real_cluster
