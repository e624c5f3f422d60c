"""Pages of the web application. Every page but the login page requires login."""

from django.contrib.auth import views as auth_views
from django.urls import path

from turnup.web import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("sites/", views.site_list, name="site-list"),
    path("sites/<slug:slug>/", views.site_detail, name="site-detail"),
    path("sites/<slug:slug>/status/", views.site_status, name="site-status"),
    path("sites/<slug:slug>/devices/", views.site_devices, name="site-devices"),
    path("sites/<slug:slug>/devices/<int:pk>/", views.device_detail, name="device-detail"),
    path("sites/<slug:slug>/racks/", views.site_racks, name="site-racks"),
    path("sites/<slug:slug>/topology.svg", views.site_topology_svg, name="site-topology-svg"),
    path("sites/<slug:slug>/cabling/", views.site_cabling, name="site-cabling"),
    path("sites/<slug:slug>/console/", views.site_console, name="site-console"),
]
urlpatterns += [
    path(
        "sites/<slug:slug>/cabling.<str:fmt>",
        views.site_cabling_export,
        name="site-cabling-export",
    ),
]
urlpatterns += [
    path("blueprints/", views.blueprint_list, name="blueprint-list"),
    path("blueprints/<slug:name>/", views.blueprint_wizard, name="blueprint-wizard"),
    path("sites/<slug:slug>/checks/", views.site_checks, name="site-checks"),
    path("sites/<slug:slug>/credentials/", views.site_credentials, name="site-credentials"),
    path("sites/<slug:slug>/addressing/", views.site_addressing, name="site-addressing"),
    path(
        "sites/<slug:slug>/interfaces/<int:pk>/edit/",
        views.interface_edit,
        name="interface-edit",
    ),
]
urlpatterns += [
    path("sites/<slug:slug>/configs/", views.site_configs, name="site-configs"),
    path("sites/<slug:slug>/runs/", views.site_runs, name="site-runs"),
    path("ipam/", views.prefix_list, name="prefix-list"),
    path("runs/", views.run_list, name="run-list"),
]
urlpatterns += [
    path(
        "sites/<slug:slug>/configs/render/", views.site_configs_render, name="site-configs-render"
    ),
    path("sites/<slug:slug>/configs.zip", views.site_configs_zip, name="site-configs-zip"),
    path(
        "sites/<slug:slug>/devices/<int:pk>/configs/<str:kind>/",
        views.config_versions,
        name="config-versions",
    ),
]
urlpatterns += [
    path("ipam/prefixes/<int:pk>/", views.prefix_detail, name="prefix-detail"),
]
urlpatterns += [
    path("sites/<slug:slug>/runs/start/", views.run_start_view, name="run-start"),
    path("sites/<slug:slug>/runs/<int:pk>/", views.run_board_view, name="run-board"),
    path("sites/<slug:slug>/runs/<int:pk>/state.json", views.run_state, name="run-state"),
    path("sites/<slug:slug>/runs/<int:pk>/cancel/", views.run_cancel_view, name="run-cancel"),
    path("sites/<slug:slug>/runs/<int:pk>/retry/", views.run_retry_view, name="run-retry"),
]
