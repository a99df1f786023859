from django.urls import path

from opiniondesk.readiness.consumers import DeviceCheckConsumer

websocket_urlpatterns = [
    path("ws/device-check/", DeviceCheckConsumer.as_asgi()),
]
