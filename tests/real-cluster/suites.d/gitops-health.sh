# GitOps health: kstatus (what Flux sees) and the Argo CD Lua health checks of deploy/argocd/,
# judged by the real libraries (tools/gitops-health) on objects read back from the server in
# every lifecycle state; the table is docs/gitops-health.md.
suite gitops-health --test gitops_health
