async fn _x(){}
