-- Cache-missing load for run.sh --miss-storm: time series from 2021-01-01 to a random end
-- date in a random base, so nearly every request renders (and is shed when the expensive
-- renders are all busy).
local bases = { "EUR", "USD", "JPY", "GBP", "CHF", "SEK", "NOK", "CAD", "AUD", "PLN" }
local first_end = os.time({ year = 2022, month = 1, day = 1, hour = 12 })

setup = function(thread)
  thread:set("id", math.random(1, 1000000))
end

init = function()
  math.randomseed(os.time() + (id or 0))
end

request = function()
  local finish = os.date("!%Y-%m-%d", first_end + math.random(0, 1400) * 86400)
  local base = bases[math.random(1, #bases)]
  return wrk.format("GET", "/v1/exchange-rates?start=2021-01-01&end=" .. finish .. "&base=" .. base)
end

local statuses = {}
response = function(status)
  statuses[status] = (statuses[status] or 0) + 1
end
