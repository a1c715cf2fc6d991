"""Drivers turn the IVR's commands into I/O and the world's events into the IVR's events.

``console`` (keys typed or scripted, for testers), ``ami/`` (Asterisk over AMI/AsyncAGI),
``sip/`` (a SIP endpoint of our own: softphones and SIPp reach the IVR with no Asterisk).
Each reuses ``ivr.call.session`` unchanged.
"""
