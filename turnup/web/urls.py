"""Pages of the web application. Every page but the login page requires login."""

from django.contrib.auth import views as auth_views
from django.urls import path

from turnup.web import views

SITE = "sites/<slug:slug>/"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    # sites and their tabs
    path("sites/", views.site_list, name="site-list"),
    path(SITE, views.site_detail, name="site-detail"),
    path(f"{SITE}status/", views.site_status, name="site-status"),
    path(f"{SITE}topology.svg", views.site_topology_svg, name="site-topology-svg"),
    path(f"{SITE}devices/", views.site_devices, name="site-devices"),
    path(f"{SITE}devices/<int:pk>/", views.device_detail, name="device-detail"),
    path(f"{SITE}racks/", views.site_racks, name="site-racks"),
    path(f"{SITE}cabling/", views.site_cabling, name="site-cabling"),
    path(f"{SITE}cabling.<str:fmt>", views.site_cabling_export, name="site-cabling-export"),
    path(f"{SITE}console/", views.site_console, name="site-console"),
    path(f"{SITE}addressing/", views.site_addressing, name="site-addressing"),
    path(f"{SITE}interfaces/<int:pk>/edit/", views.interface_edit, name="interface-edit"),
    path(f"{SITE}checks/", views.site_checks, name="site-checks"),
    path(f"{SITE}credentials/", views.site_credentials, name="site-credentials"),
    path(f"{SITE}configs/", views.site_configs, name="site-configs"),
    path(f"{SITE}configs/render/", views.site_configs_render, name="site-configs-render"),
    path(f"{SITE}configs.zip", views.site_configs_zip, name="site-configs-zip"),
    path(
        f"{SITE}devices/<int:pk>/configs/<str:kind>/",
        views.config_versions,
        name="config-versions",
    ),
    # turn-ups
    path(f"{SITE}runs/", views.site_runs, name="site-runs"),
    path(f"{SITE}runs/start/", views.run_start_view, name="run-start"),
    path(f"{SITE}runs/<int:pk>/", views.run_board_view, name="run-board"),
    path(f"{SITE}runs/<int:pk>/state.json", views.run_state, name="run-state"),
    path(f"{SITE}runs/<int:pk>/cancel/", views.run_cancel_view, name="run-cancel"),
    path(f"{SITE}runs/<int:pk>/retry/", views.run_retry_view, name="run-retry"),
    path(f"{SITE}changes/", views.site_changes, name="site-changes"),
    path("runs/", views.run_list, name="run-list"),
    path("changes/", views.change_list, name="change-list"),
    path("events/", views.event_list, name="event-list"),
    # blueprints
    path("blueprints/", views.blueprint_list, name="blueprint-list"),
    path("blueprints/<slug:name>/", views.blueprint_wizard, name="blueprint-wizard"),
    # ipam
    path("ipam/", views.prefix_list, name="prefix-list"),
    path("ipam/prefixes/<int:pk>/", views.prefix_detail, name="prefix-detail"),
]
