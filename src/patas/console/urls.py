from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_admin

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("groups/", views.group_list, name="groups"),
    path("groups/<uuid:uid>/", views.thread, name="thread"),
    path("groups/<uuid:uid>/posts/", views.thread_posts, name="thread_posts"),
    path("groups/<uuid:uid>/post/", views.post, name="post"),
    path("posts/<uuid:uid>/code/", views.code_post, name="code_post"),
    path("posts/<uuid:uid>/<slug:action>/", views.post_action, name="post_action"),
    path("inbox/", views.inbox, name="inbox"),
    path("members/<uuid:uid>/", views.member, name="member"),
    path("members/<uuid:uid>/reply/", views.reply, name="reply"),
    path("members/<uuid:uid>/note/", views.note, name="note"),
    path("members/<uuid:uid>/remove/", views.remove, name="remove"),
    path("content/", views_admin.content, name="content"),
    path("content/day/<int:number>/", views_admin.content_day, name="content_day"),
    path("manage/groups/", views_admin.manage_groups, name="manage_groups"),
    path("manage/groups/<uuid:uid>/", views_admin.manage_group, name="manage_group"),
    path("manage/facilitators/", views_admin.facilitators, name="facilitators"),
    path("coding/agreement/", views_admin.agreement, name="agreement"),
]
