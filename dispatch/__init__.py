"""Dispatch engine: the pure decision core shared by the live service and the simulator."""
