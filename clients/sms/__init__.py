"""Sending SMS (login codes and notices) through a pluggable provider.

`client` holds the `SmsProvider` interface and its two providers: `DevSmsProvider` keeps messages in
Redis for development, the demo and tests; `HttpSmsProvider` talks to the real gateway, whose HTTP
contract is written down in `client`'s docstring and spoken by the local `stub`.
Must not: be imported by domain code for anything but the interface, the models and the errors;
providers are built once where the process is wired (the server's lifespan).
"""
