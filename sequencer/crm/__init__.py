"""CRM webhooks, the pure half: signatures, payload mappings, stage names, URL rules.

Nothing here touches the store or the network: the services in
``sequencer.services.crm_inbound`` and ``sequencer.services.webhooks_out`` do.
"""
