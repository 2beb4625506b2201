"""What every admin page shares: the navigation, one-time notices, list paging, staff sign-in and sign-out."""
