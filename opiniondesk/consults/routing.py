from django.urls import path

from opiniondesk.consults.consumers import ConsultConsumer, LobbyConsumer

websocket_urlpatterns = [
    path("ws/consults/lobby/", LobbyConsumer.as_asgi()),
    path("ws/consults/<int:consult_id>/", ConsultConsumer.as_asgi()),
]
