-- Argo CD health check for telephony.agni.ai TelephonyAccount (telephony-operator).
-- argocd-cm key: resource.customizations.health.telephony.agni.ai_TelephonyAccount
-- Reads the kstatus conditions the operator writes. Only Lua's base library is used (Argo CD
-- opens base, table, package and a reduced os for scripts from argocd-cm; no string library).
--   status not written yet, or written for an older generation  -> Progressing
--   Stalled=True (a person must act)                            -> Degraded
--   Reconciling=True (connecting, or Twilio briefly unreachable) -> Progressing
--   Ready=True                                                  -> Healthy
-- See docs/gitops-health.md for every state.
local hs = {status = "Progressing", message = "waiting for the telephony operator to reconcile this TelephonyAccount"}
local st = obj.status
if st == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and st.observedGeneration ~= generation then
  hs.message = "waiting for the telephony operator to reconcile generation " .. generation
  return hs
end
local function condition(type)
  if st.conditions ~= nil then
    for _, c in ipairs(st.conditions) do
      if c.type == type then
        return c
      end
    end
  end
  return nil
end
local function says(c)
  return (c.reason or "") .. ": " .. (c.message or "")
end
local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = says(stalled)
  return hs
end
local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = says(reconciling)
  return hs
end
local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = says(ready)
  return hs
end
if ready ~= nil then
  hs.message = says(ready)
end
return hs
