-- wrk script: POST /v1/transfer, 0.01 EUR from the partner to the documented example user
-- (the binary's default key and example records). See load.sh.
wrk.method = "POST"
wrk.path = "/v1/transfer"
wrk.headers["x-api-key"] = "sandbox-key"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"destinationExternalUserId":"bca65c48-df49-4831-a7b2-de7903321581","amount":"0.01","currency":"eur"}'
