-- POST /v1/quotes: a Berlin transfer a week ahead (the instant comes from the environment).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"city_id":"berlin","pickup":{"lat":52.3667,"lon":13.5033},' ..
  '"product":{"type":"transfer","dropoff":{"lat":52.5219,"lon":13.4132}},' ..
  '"pickup_time":{"kind":"instant","at":"' .. os.getenv("PICKUP_AT") .. '"},"passengers":2,"bags":1}'
