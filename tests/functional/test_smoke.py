def test_home_page_shows_the_service_name(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Kent Commissioning Marketplace" in response.get_data(as_text=True)
