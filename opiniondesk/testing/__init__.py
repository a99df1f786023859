"""What the tests start from: the personas, seeded once per test session, and builders that
write a case in any state directly (`builders.case_in`). The pytest fixtures are in `fixtures`,
loaded by the root conftest. Never imported by the application."""
