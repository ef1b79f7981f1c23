"""Privacy controls of the gateway: what each app may read and write, decided from data the district controls.

Why a package of its own: field profiles, sensitivity tiers and (later) opt-outs are policy inputs with their own
validation rules; keeping them apart from the API code means every endpoint gets the same answer from one place
(``gateway.policy`` consumes what is built here).
"""
