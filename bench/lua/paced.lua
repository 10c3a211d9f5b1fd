-- wrk script: ../shared/bench/lua/scenario.lua (same env knobs, same "JSON {...}" line from
-- done()) plus a pause of WRK_DELAY_MS milliseconds before each request on a connection, so a
-- few connections send a light, steady probe load instead of saturating the server.
-- wrk starts a request's latency clock when the request is written, after the pause.
--   SCENARIO_LUA=/path/to/shared/bench/lua/scenario.lua WRK_DELAY_MS=10 wrk -s paced.lua ...
local shared = os.getenv("SCENARIO_LUA")
if not shared or shared == "" then error("SCENARIO_LUA is not set") end
dofile(shared)

local pause = tonumber(os.getenv("WRK_DELAY_MS") or "10")

function delay()
  return pause
end
