"""REST API v1 for customers, billing accounts and subscribers (mounted at /api/v1/).

A plain APIView per URL, one method per operation (see common.api). Each method parses input
with its nested InputSerializer, fetches through a scoped selector (someone else's object
answers 404), checks the write permission only then (so a stranger cannot learn that an object
exists), calls one service and renders its OutputSerializer.
"""
