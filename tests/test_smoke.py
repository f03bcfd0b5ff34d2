"""The app starts, the demo seeds, and a charge nurse reaches the board."""


def test_login_and_board(client, auth, make_admission):
    admission = make_admission()
    auth.login_as("charge_nurse")
    response = client.get("/board", follow_redirects=True)
    assert response.status_code == 200
    assert admission.patient.display_name in response.get_data(as_text=True)
